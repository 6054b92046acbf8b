//! Avro schema resolution, compiled once per (writer, reader) pair: reads data written with
//! the writer schema as values of the reader schema.
//!
//! Per the Avro specification: record fields are matched by name (or reader alias) whatever
//! their order, writer-only fields are skipped, reader-only fields take their defaults;
//! `int` → `long` → `float` → `double` and `string` ↔ `bytes` promote; enum symbols map by
//! name (an unknown symbol takes the reader's enum default, or fails when it is read); a
//! writer union resolves branch by branch (a branch with no counterpart fails only when data
//! uses it); a non-union writer read as a union picks the first reader branch that matches
//! exactly, else the first it promotes to. Named types must agree by unqualified name or a
//! reader alias. Logical types do not take part: resolution follows the physical types.

use std::collections::HashMap;
use std::sync::Arc;

use super::error::{CodecError, DecodeError, DecodeErrorKind as K, FieldPath, PathSegment};
use super::read::{self, enum_index, too_deep, union_branch, Reader, MAX_DEPTH};
use super::schema::{Kind, Node, NodeId};
use super::value::Value;
use super::{Codec, EncodeError};

type ActionId = u32;

#[derive(Debug, Clone, Copy)]
enum Promotion {
    IntToLong,
    IntToFloat,
    IntToDouble,
    LongToFloat,
    LongToDouble,
    FloatToDouble,
    StringToBytes,
    BytesToString,
}

#[derive(Debug, Clone)]
enum Step {
    Read {
        action: ActionId,
        to: usize,
        name: String,
    },
    Skip {
        node: NodeId,
        name: String,
    },
}

#[derive(Debug, Clone)]
enum Action {
    /// The writer's node decodes as it is.
    Same(NodeId),
    Promote(Promotion),
    /// Writer symbol index → reader symbol index (`None`: unknown and no default).
    Enum {
        map: Vec<Option<u32>>,
        writer: NodeId,
    },
    Array {
        item: ActionId,
        writer_min: usize,
    },
    Map {
        value: ActionId,
        writer_min: usize,
    },
    WriterUnion {
        branches: Vec<Option<ActionId>>,
        writer: NodeId,
    },
    ReaderUnion {
        branch: u32,
        action: ActionId,
    },
    Record {
        steps: Vec<Step>,
        reader_len: usize,
        defaults: Vec<(usize, Value)>,
        /// Every writer field is read, into reader fields 0, 1, 2…, and the defaults fill
        /// the rest in order: the values can be pushed as they come.
        in_order: bool,
    },
    /// Stands for a record pair while its fields are resolved; never left in a finished plan.
    Pending,
}

/// Reads data written with one schema as values of another.
#[derive(Debug, Clone)]
pub struct ResolvingCodec {
    writer: Arc<Codec>,
    reader: Arc<Codec>,
    actions: Vec<Action>,
    root: ActionId,
}

type Incompatible = (FieldPath, String);

struct Planner<'c> {
    w: &'c [Node],
    r: &'c [Node],
    actions: Vec<Action>,
    records: HashMap<(NodeId, NodeId), ActionId>,
}

fn unqualified(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

fn names_match(w: &Node, r: &Node) -> bool {
    match (&w.name, &r.name) {
        (Some(wn), Some(rn)) => {
            wn == rn
                || unqualified(wn) == unqualified(rn)
                || r.aliases
                    .iter()
                    .any(|a| a == wn || unqualified(a) == unqualified(wn))
        }
        _ => true,
    }
}

fn same_kind(w: &Node, r: &Node) -> bool {
    std::mem::discriminant(&w.kind) == std::mem::discriminant(&r.kind)
        && (w.name.is_none() || names_match(w, r))
}

impl Planner<'_> {
    fn push(&mut self, a: Action) -> ActionId {
        self.actions.push(a);
        (self.actions.len() - 1) as ActionId
    }

    fn refuse(&self, w: NodeId, r: NodeId) -> Incompatible {
        (
            FieldPath::default(),
            format!(
                "the writer's {} cannot be read as {}",
                self.w[w as usize].describe(self.w),
                self.r[r as usize].describe(self.r)
            ),
        )
    }

    fn resolve(&mut self, w: NodeId, r: NodeId) -> Result<ActionId, Incompatible> {
        use Promotion as P;
        let (wn, rn) = (&self.w[w as usize], &self.r[r as usize]);
        let promote = |p| Ok(Action::Promote(p));
        let action = match (&wn.kind, &rn.kind) {
            (Kind::Union(wb), _) => {
                let wb = wb.clone();
                let mut branches = Vec::with_capacity(wb.len());
                let mut last = None;
                for b in wb {
                    match self.resolve(b, r) {
                        Ok(a) => branches.push(Some(a)),
                        Err(e) => {
                            branches.push(None);
                            last = Some(e);
                        }
                    }
                }
                match last {
                    Some(e) if branches.iter().all(Option::is_none) => return Err(e),
                    _ => Ok(Action::WriterUnion {
                        branches,
                        writer: w,
                    }),
                }
            }
            (_, Kind::Union(rb)) => {
                let rb = rb.clone();
                let exact = rb.iter().position(|b| same_kind(wn, &self.r[*b as usize]));
                let mut chosen = None;
                if let Some(i) = exact {
                    if let Ok(a) = self.resolve(w, rb[i]) {
                        chosen = Some((i, a));
                    }
                }
                if chosen.is_none() {
                    for (i, b) in rb.iter().enumerate() {
                        if let Ok(a) = self.resolve(w, *b) {
                            chosen = Some((i, a));
                            break;
                        }
                    }
                }
                match chosen {
                    Some((i, a)) => Ok(Action::ReaderUnion {
                        branch: i as u32,
                        action: a,
                    }),
                    None => Err(self.refuse(w, r)),
                }
            }
            (Kind::Null, Kind::Null)
            | (Kind::Boolean, Kind::Boolean)
            | (Kind::Int, Kind::Int)
            | (Kind::Long, Kind::Long)
            | (Kind::Float, Kind::Float)
            | (Kind::Double, Kind::Double)
            | (Kind::Bytes, Kind::Bytes)
            | (Kind::String, Kind::String) => Ok(Action::Same(w)),
            (Kind::Int, Kind::Long) => promote(P::IntToLong),
            (Kind::Int, Kind::Float) => promote(P::IntToFloat),
            (Kind::Int, Kind::Double) => promote(P::IntToDouble),
            (Kind::Long, Kind::Float) => promote(P::LongToFloat),
            (Kind::Long, Kind::Double) => promote(P::LongToDouble),
            (Kind::Float, Kind::Double) => promote(P::FloatToDouble),
            (Kind::String, Kind::Bytes) => promote(P::StringToBytes),
            (Kind::Bytes, Kind::String) => promote(P::BytesToString),
            (Kind::Fixed { size: ws }, Kind::Fixed { size: rs })
                if ws == rs && names_match(wn, rn) =>
            {
                Ok(Action::Same(w))
            }
            (Kind::Enum(we), Kind::Enum(re)) if names_match(wn, rn) => {
                let map = we
                    .symbols
                    .iter()
                    .map(|s| re.lookup.get(s).copied().or(re.default))
                    .collect();
                Ok(Action::Enum { map, writer: w })
            }
            (Kind::Array(wi), Kind::Array(ri)) => {
                let (wi, ri) = (*wi, *ri);
                let writer_min = self.w[wi as usize].min_size;
                let item = self.resolve(wi, ri)?;
                Ok(Action::Array { item, writer_min })
            }
            (Kind::Map(wv), Kind::Map(rv)) => {
                let (wv, rv) = (*wv, *rv);
                let writer_min = self.w[wv as usize].min_size;
                let value = self.resolve(wv, rv)?;
                Ok(Action::Map { value, writer_min })
            }
            (Kind::Record(_), Kind::Record(_)) if names_match(wn, rn) => {
                return self.record(w, r);
            }
            _ => Err(self.refuse(w, r)),
        }?;
        Ok(self.push(action))
    }

    fn record(&mut self, w: NodeId, r: NodeId) -> Result<ActionId, Incompatible> {
        if let Some(id) = self.records.get(&(w, r)) {
            return Ok(*id);
        }
        let id = self.push(Action::Pending);
        self.records.insert((w, r), id);
        match self.record_steps(w, r) {
            Ok(action) => {
                self.actions[id as usize] = action;
                Ok(id)
            }
            Err(e) => {
                self.records.remove(&(w, r));
                Err(e)
            }
        }
    }

    fn record_steps(&mut self, w: NodeId, r: NodeId) -> Result<Action, Incompatible> {
        let (Kind::Record(wr), Kind::Record(rr)) =
            (&self.w[w as usize].kind, &self.r[r as usize].kind)
        else {
            return Err(self.refuse(w, r));
        };
        let (wr, rr) = (wr.clone(), rr.clone());
        let mut matched = vec![false; rr.fields.len()];
        let mut steps = Vec::with_capacity(wr.fields.len());
        for wf in &wr.fields {
            let target = rr.lookup.get(&wf.name).copied().or_else(|| {
                rr.fields
                    .iter()
                    .position(|rf| rf.aliases.iter().any(|a| a == &wf.name))
            });
            match target {
                Some(to) if !matched[to] => {
                    matched[to] = true;
                    let action =
                        self.resolve(wf.node, rr.fields[to].node)
                            .map_err(|(mut path, why)| {
                                path.push_outer(PathSegment::Field(wf.name.clone()));
                                (path, why)
                            })?;
                    steps.push(Step::Read {
                        action,
                        to,
                        name: wf.name.clone(),
                    });
                }
                _ => steps.push(Step::Skip {
                    node: wf.node,
                    name: wf.name.clone(),
                }),
            }
        }
        let mut defaults = Vec::new();
        for (i, rf) in rr.fields.iter().enumerate() {
            if matched[i] {
                continue;
            }
            match &rf.default {
                Some(v) => defaults.push((i, v.clone())),
                None => {
                    let mut path = FieldPath::default();
                    path.push_outer(PathSegment::Field(rf.name.clone()));
                    let why = match &rf.default_error {
                        Some(e) => format!(
                            "the reader's field is not in the writer's schema and its default is unusable: {e}"
                        ),
                        None => "the reader's field is not in the writer's schema and has no default".to_string(),
                    };
                    return Err((path, why));
                }
            }
        }
        let reads_in_order = steps
            .iter()
            .enumerate()
            .all(|(j, s)| matches!(s, Step::Read { to, .. } if *to == j));
        let defaults_in_order = defaults
            .iter()
            .enumerate()
            .all(|(j, (i, _))| *i == steps.len() + j);
        Ok(Action::Record {
            steps,
            reader_len: rr.fields.len(),
            defaults,
            in_order: reads_in_order && defaults_in_order,
        })
    }
}

impl ResolvingCodec {
    /// Plans how to read `writer` data as `reader` values. Fails when the schemas cannot be
    /// resolved at all (a reader field with no default missing from the writer, types that
    /// do not promote); a writer union branch with no counterpart fails only when read.
    pub fn new(writer: Arc<Codec>, reader: Arc<Codec>) -> Result<Self, CodecError> {
        let mut planner = Planner {
            w: writer.nodes(),
            r: reader.nodes(),
            actions: Vec::new(),
            records: HashMap::new(),
        };
        let root = planner
            .resolve(writer.root_id(), reader.root_id())
            .map_err(|(path, reason)| CodecError::Incompatible { path, reason })?;
        let actions = planner.actions;
        Ok(Self {
            writer,
            reader,
            actions,
            root,
        })
    }

    /// Compiles both schemas and plans the resolution.
    pub fn from_schemas(
        writer: &apache_avro::Schema,
        reader: &apache_avro::Schema,
    ) -> Result<Self, CodecError> {
        Self::new(Arc::new(Codec::new(writer)?), Arc::new(Codec::new(reader)?))
    }

    pub fn writer(&self) -> &Arc<Codec> {
        &self.writer
    }

    pub fn reader(&self) -> &Arc<Codec> {
        &self.reader
    }

    /// Decodes a body written with the writer schema into a value of the reader schema.
    pub fn decode(&self, body: &[u8]) -> Result<Value, DecodeError> {
        let mut r = Reader::new(body);
        let v = self.read(self.root, &mut r, 0)?;
        r.finish()?;
        Ok(v)
    }

    /// Encodes a reader-schema value (what [`decode`](Self::decode) returns).
    pub fn encode(&self, value: &Value, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.reader.encode(value, out)
    }

    /// Reads one value onto the end of `out`; a value the writer's node decodes as it is
    /// takes the plain decoder's fast path.
    #[inline(always)]
    fn read_push(
        &self,
        a: ActionId,
        r: &mut Reader<'_>,
        depth: u32,
        out: &mut Vec<Value>,
    ) -> Result<(), DecodeError> {
        match &self.actions[a as usize] {
            Action::Same(node) => read::read_push(self.writer.nodes(), *node, r, depth, out),
            _ => {
                let v = self.read(a, r, depth)?;
                out.push(v);
                Ok(())
            }
        }
    }

    fn read(&self, a: ActionId, r: &mut Reader<'_>, depth: u32) -> Result<Value, DecodeError> {
        use Promotion as P;
        if depth > MAX_DEPTH {
            return Err(too_deep(r));
        }
        let depth = depth + 1;
        let wn = self.writer.nodes();
        Ok(match &self.actions[a as usize] {
            Action::Same(node) => read::read(wn, *node, r, depth)?,
            Action::Promote(p) => match p {
                P::IntToLong => Value::Long(i64::from(r.int()?)),
                P::IntToFloat => Value::Float(r.int()? as f32),
                P::IntToDouble => Value::Double(f64::from(r.int()?)),
                P::LongToFloat => Value::Float(r.long()? as f32),
                P::LongToDouble => Value::Double(r.long()? as f64),
                P::FloatToDouble => Value::Double(f64::from(r.float()?)),
                P::StringToBytes => Value::Bytes(r.len_prefixed("string")?.to_vec()),
                P::BytesToString => Value::String(r.str()?.to_owned()),
            },
            Action::Enum { map, writer } => {
                let start = r.pos();
                let i = enum_index(r, map.len())?;
                match map[i as usize] {
                    Some(to) => Value::Enum(to),
                    None => {
                        let symbol = match &wn[*writer as usize].kind {
                            Kind::Enum(e) => e.symbols.get(i as usize).cloned(),
                            _ => None,
                        };
                        return Err(DecodeError::new(
                            start,
                            K::UnknownSymbol {
                                symbol: symbol.unwrap_or_default(),
                            },
                        ));
                    }
                }
            }
            Action::WriterUnion { branches, writer } => {
                let start = r.pos();
                let b = union_branch(r, branches.len())?;
                match branches[b] {
                    Some(action) => self.read(action, r, depth)?,
                    None => {
                        let writer_branch = match &wn[*writer as usize].kind {
                            Kind::Union(wb) => wb
                                .get(b)
                                .map(|n| wn[*n as usize].describe(wn))
                                .unwrap_or_default(),
                            _ => String::new(),
                        };
                        return Err(DecodeError::new(
                            start,
                            K::UnresolvedBranch {
                                branch: b as u32,
                                writer: writer_branch,
                            },
                        ));
                    }
                }
            }
            Action::ReaderUnion { branch, action } => {
                Value::Union(*branch, Box::new(self.read(*action, r, depth)?))
            }
            Action::Record {
                steps,
                reader_len,
                defaults,
                in_order: true,
            } => {
                let mut out = Vec::with_capacity(*reader_len);
                for step in steps {
                    if let Step::Read { action, name, .. } = step {
                        if let Err(e) = self.read_push(*action, r, depth, &mut out) {
                            return Err(e.in_field(name));
                        }
                    }
                }
                out.extend(defaults.iter().map(|(_, v)| v.clone()));
                Value::Record(out)
            }
            Action::Record {
                steps,
                reader_len,
                defaults,
                in_order: false,
            } => {
                let mut out = vec![Value::Null; *reader_len];
                for step in steps {
                    match step {
                        Step::Read { action, to, name } => match self.read(*action, r, depth) {
                            Ok(v) => out[*to] = v,
                            Err(e) => return Err(e.in_field(name)),
                        },
                        Step::Skip { node, name } => {
                            if let Err(e) = read::skip(wn, *node, r, depth) {
                                return Err(e.in_field(name));
                            }
                        }
                    }
                }
                for (i, v) in defaults {
                    out[*i] = v.clone();
                }
                Value::Record(out)
            }
            Action::Array { item, writer_min } => {
                let mut items = Vec::new();
                loop {
                    let n = r.block_len("array block", *writer_min, false)?;
                    if n == 0 {
                        break;
                    }
                    items.reserve(n.min(1024));
                    for _ in 0..n {
                        let at = items.len();
                        let v = self
                            .read(*item, r, depth)
                            .map_err(|e| e.at(PathSegment::Index(at)))?;
                        items.push(v);
                    }
                }
                Value::Array(items)
            }
            Action::Map { value, writer_min } => {
                let mut entries = Vec::new();
                loop {
                    let n = r.block_len("map block", *writer_min, true)?;
                    if n == 0 {
                        break;
                    }
                    entries.reserve(n.min(1024));
                    for _ in 0..n {
                        let key = r.str()?;
                        let v = self
                            .read(*value, r, depth)
                            .map_err(|e| e.at(PathSegment::Key(key.to_string())))?;
                        entries.push((key.to_owned(), v));
                    }
                }
                Value::Map(entries)
            }
            Action::Pending => {
                return Err(DecodeError::new(
                    r.pos(),
                    K::UnresolvedBranch {
                        branch: 0,
                        writer: "an unfinished resolution plan".into(),
                    },
                ))
            }
        })
    }
}
