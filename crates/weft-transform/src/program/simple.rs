//! Route conditions of the common simple forms, evaluated on the decoded Avro value without
//! converting the event to VRL: a field compared with a literal (`.country == "DE"`,
//! `.amount_cents >= 90000`) and `includes([...literals], .field)`, alone or joined all by
//! `&&` or all by `||`.
//!
//! The VRL program stays the definition: a condition is only recognised after VRL compiled
//! it, and evaluation answers `None` — "ask VRL" — whenever the value is not exactly of the
//! kind the form was recognised for (a null, a union branch of another type, an enum index
//! without a symbol, a NaN or an infinity). Anything else (other operators, functions, paths through
//! arrays, escapes in strings, mixed `&&`/`||`) is not recognised and runs in VRL.

use weft_schema::codec::{Codec, Kind, NodeId, NodeRef, Value};

/// A recognised condition.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Simple {
    atoms: Vec<Atom>,
    /// `true`: all atoms must hold (`&&`); `false`: any (`||`).
    all: bool,
}

#[derive(Debug, Clone, PartialEq)]
struct Atom {
    /// Field indexes from the event's record.
    steps: Vec<usize>,
    leaf: Leaf,
    test: Test,
}

/// The kind of the field's value (the non-null branch of a nullable field).
#[derive(Debug, Clone, PartialEq)]
enum Leaf {
    String,
    /// An enum: compared by symbol.
    Enum(Vec<String>),
    Integer,
    Float,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Str(String),
    Int(i64),
    Float(f64),
}

#[derive(Debug, Clone, PartialEq)]
enum Test {
    Compare(Op, Lit),
    /// `includes([...], .field)`: equal to one of the literals.
    OneOf(Vec<Lit>),
}

impl Simple {
    /// Recognises `expr` against the record at `node` of `codec`; `None` when it is not of a
    /// simple form (it then runs in VRL).
    pub(crate) fn recognise(expr: &str, codec: &Codec, node: NodeId) -> Option<Self> {
        let mut p = Parser {
            s: expr.as_bytes(),
            i: 0,
        };
        let mut atoms = vec![p.atom()?];
        let mut all = None;
        loop {
            p.space();
            if p.done() {
                break;
            }
            let and = if p.eat("&&") {
                true
            } else if p.eat("||") {
                false
            } else {
                return None;
            };
            if *all.get_or_insert(and) != and {
                return None;
            }
            atoms.push(p.atom()?);
        }
        let root = codec.node(node);
        let atoms = atoms
            .into_iter()
            .map(|(path, test)| resolve(root, &path, test))
            .collect::<Option<Vec<_>>>()?;
        Some(Self {
            atoms,
            all: all.unwrap_or(true),
        })
    }

    /// The condition's value on `event`, or `None` when VRL must decide.
    pub(crate) fn eval(&self, event: &Value) -> Option<bool> {
        // Every atom is evaluated first, so a `None` anywhere leaves the decision to VRL
        // (which would also report an error the same way).
        let mut result = self.all;
        for a in &self.atoms {
            let hit = a.eval(event)?;
            result = if self.all {
                result && hit
            } else {
                result || hit
            };
        }
        Some(result)
    }
}

fn resolve(root: NodeRef<'_>, path: &[String], test: Test) -> Option<Atom> {
    let mut node = root;
    let mut steps = Vec::with_capacity(path.len());
    for name in path {
        node = non_null(record_or_nullable(node)?)?;
        let (index, field) = node.field_named(name)?;
        steps.push(index);
        node = field;
    }
    let node = non_null(node)?;
    if node.logical().is_some() {
        return None;
    }
    let leaf = match node.kind() {
        Kind::String => Leaf::String,
        Kind::Enum(e) => Leaf::Enum(e.symbols.clone()),
        Kind::Int | Kind::Long => Leaf::Integer,
        Kind::Float | Kind::Double => Leaf::Float,
        _ => return None,
    };
    // Only literal kinds that compare without conversion in VRL.
    let fits = |l: &Lit| {
        matches!(
            (&leaf, l),
            (Leaf::String | Leaf::Enum(_), Lit::Str(_))
                | (Leaf::Integer, Lit::Int(_))
                | (Leaf::Float, Lit::Float(_))
        )
    };
    let ok = match &test {
        Test::Compare(Op::Eq | Op::Ne, l) => fits(l),
        Test::Compare(_, l) => fits(l) && matches!(leaf, Leaf::Integer | Leaf::Float),
        Test::OneOf(ls) => ls.iter().all(fits),
    };
    ok.then_some(Atom { steps, leaf, test })
}

fn record_or_nullable(node: NodeRef<'_>) -> Option<NodeRef<'_>> {
    match node.kind() {
        Kind::Record(_) | Kind::Union(_) => Some(node),
        _ => None,
    }
}

/// The node itself, or the one non-null branch of a `["null", T]` union.
fn non_null(node: NodeRef<'_>) -> Option<NodeRef<'_>> {
    match node.kind() {
        Kind::Union(_) => {
            let others: Vec<_> = node
                .branches()
                .into_iter()
                .filter(|b| !matches!(b.kind(), Kind::Null))
                .collect();
            match others.as_slice() {
                [one] if !matches!(one.kind(), Kind::Union(_)) => Some(*one),
                _ => None,
            }
        }
        _ => Some(node),
    }
}

/// A union value's branch value; a null is `None` (VRL decides).
fn unwrap(value: &Value) -> Option<&Value> {
    match value {
        Value::Union(_, inner) => unwrap(inner),
        Value::Null => None,
        v => Some(v),
    }
}

impl Atom {
    fn eval(&self, event: &Value) -> Option<bool> {
        let mut v = event;
        for &i in &self.steps {
            v = unwrap(v)?.as_record()?.get(i)?;
        }
        let v = unwrap(v)?;
        match &self.test {
            Test::Compare(op, lit) => self.compare(*op, v, lit),
            Test::OneOf(lits) => {
                let mut any = false;
                for l in lits {
                    any |= self.compare(Op::Eq, v, l)?;
                }
                Some(any)
            }
        }
    }

    fn compare(&self, op: Op, v: &Value, lit: &Lit) -> Option<bool> {
        let ord = match (&self.leaf, v, lit) {
            (Leaf::String, Value::String(s), Lit::Str(l)) => s.as_str().cmp(l.as_str()),
            (Leaf::Enum(symbols), Value::Enum(i), Lit::Str(l)) => {
                symbols.get(*i as usize)?.as_str().cmp(l.as_str())
            }
            (Leaf::Integer, Value::Int(n), Lit::Int(l)) => i64::from(*n).cmp(l),
            (Leaf::Integer, Value::Long(n), Lit::Int(l)) => n.cmp(l),
            // A NaN or an infinity is a null in VRL.
            (Leaf::Float, Value::Float(f), Lit::Float(l)) if f.is_finite() => {
                f64::from(*f).partial_cmp(l)?
            }
            (Leaf::Float, Value::Double(f), Lit::Float(l)) if f.is_finite() => f.partial_cmp(l)?,
            _ => return None,
        };
        Some(match op {
            Op::Eq => ord.is_eq(),
            Op::Ne => ord.is_ne(),
            Op::Gt => ord.is_gt(),
            Op::Ge => ord.is_ge(),
            Op::Lt => ord.is_lt(),
            Op::Le => ord.is_le(),
        })
    }
}

/// A recogniser for the forms above; anything unexpected gives `None`.
struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn space(&mut self) {
        while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }

    fn done(&self) -> bool {
        self.i >= self.s.len()
    }

    fn eat(&mut self, t: &str) -> bool {
        self.space();
        if self.s[self.i..].starts_with(t.as_bytes()) {
            self.i += t.len();
            true
        } else {
            false
        }
    }

    fn atom(&mut self) -> Option<(Vec<String>, Test)> {
        self.space();
        if self.eat("includes(") {
            self.space();
            if !self.eat("[") {
                return None;
            }
            let mut lits = Vec::new();
            if !self.eat("]") {
                loop {
                    lits.push(self.literal()?);
                    if self.eat("]") {
                        break;
                    }
                    if !self.eat(",") {
                        return None;
                    }
                }
            }
            if !self.eat(",") {
                return None;
            }
            let path = self.path()?;
            if !self.eat(")") {
                return None;
            }
            return Some((path, Test::OneOf(lits)));
        }
        let path = self.path()?;
        let op = if self.eat("==") {
            Op::Eq
        } else if self.eat("!=") {
            Op::Ne
        } else if self.eat(">=") {
            Op::Ge
        } else if self.eat("<=") {
            Op::Le
        } else if self.eat(">") {
            Op::Gt
        } else if self.eat("<") {
            Op::Lt
        } else {
            return None;
        };
        Some((path, Test::Compare(op, self.literal()?)))
    }

    /// `.a.b`: plain identifiers only.
    fn path(&mut self) -> Option<Vec<String>> {
        self.space();
        let mut path = Vec::new();
        while self.s.get(self.i) == Some(&b'.') {
            self.i += 1;
            let start = self.i;
            while self
                .s
                .get(self.i)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
            {
                self.i += 1;
            }
            let name = std::str::from_utf8(&self.s[start..self.i]).ok()?;
            if name.is_empty() || name.as_bytes()[0].is_ascii_digit() {
                return None;
            }
            path.push(name.to_string());
        }
        (!path.is_empty()).then_some(path)
    }

    /// A double-quoted string without escapes or braces, or a decimal number.
    fn literal(&mut self) -> Option<Lit> {
        self.space();
        if self.s.get(self.i) == Some(&b'"') {
            let start = self.i + 1;
            let len = self.s[start..].iter().position(|c| *c == b'"')?;
            let text = std::str::from_utf8(&self.s[start..start + len]).ok()?;
            if text.contains(['\\', '{', '}']) {
                return None;
            }
            self.i = start + len + 1;
            return Some(Lit::Str(text.to_string()));
        }
        let start = self.i;
        if self.s.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        while self
            .s
            .get(self.i)
            .is_some_and(|c| c.is_ascii_digit() || *c == b'.')
        {
            self.i += 1;
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).ok()?;
        if self
            .s
            .get(self.i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            return None;
        }
        if text.contains('.') {
            let f: f64 = text.parse().ok()?;
            f.is_finite().then_some(Lit::Float(f))
        } else {
            text.parse().ok().map(Lit::Int)
        }
    }
}
