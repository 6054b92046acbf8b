//! The compiled schema: an arena of nodes, named types referenced by index (so recursive
//! types are plain cycles), field names with a name → index lookup, and logical types
//! attached to the physical type that carries them.

use std::collections::HashMap;

use super::value::Value;

/// Index of a node in a compiled schema.
pub type NodeId = u32;

/// A logical type, carried by the physical type of its node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Logical {
    /// Days since the Unix epoch, on an `int`.
    Date,
    /// Milliseconds after midnight, on an `int`.
    TimeMillis,
    /// Microseconds after midnight, on a `long`.
    TimeMicros,
    TimestampMillis,
    TimestampMicros,
    TimestampNanos,
    LocalTimestampMillis,
    LocalTimestampMicros,
    LocalTimestampNanos,
    /// Big-endian two's-complement unscaled value, on `bytes` or a `fixed`.
    Decimal {
        precision: usize,
        scale: usize,
    },
    /// apache-avro's `big-decimal` (unscaled bytes and scale inside `bytes`).
    BigDecimal,
    /// On a `string` (text form), `bytes` or a 16-byte `fixed`.
    Uuid,
    /// Months, days, milliseconds as three little-endian u32, on a 12-byte `fixed`.
    Duration,
}

impl Logical {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Date => "date",
            Self::TimeMillis => "time-millis",
            Self::TimeMicros => "time-micros",
            Self::TimestampMillis => "timestamp-millis",
            Self::TimestampMicros => "timestamp-micros",
            Self::TimestampNanos => "timestamp-nanos",
            Self::LocalTimestampMillis => "local-timestamp-millis",
            Self::LocalTimestampMicros => "local-timestamp-micros",
            Self::LocalTimestampNanos => "local-timestamp-nanos",
            Self::Decimal { .. } => "decimal",
            Self::BigDecimal => "big-decimal",
            Self::Uuid => "uuid",
            Self::Duration => "duration",
        }
    }
}

/// The physical type of a node.
#[derive(Debug, Clone)]
pub enum Kind {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    String,
    Fixed { size: usize },
    Enum(EnumNode),
    Array(NodeId),
    Map(NodeId),
    Union(Vec<NodeId>),
    Record(RecordNode),
}

#[derive(Debug, Clone)]
pub struct EnumNode {
    pub symbols: Vec<String>,
    /// The default symbol's index (used when a reader does not know a writer's symbol).
    pub default: Option<u32>,
    pub lookup: HashMap<String, u32>,
}

#[derive(Debug, Clone)]
pub struct RecordNode {
    pub fields: Vec<FieldNode>,
    pub lookup: HashMap<String, usize>,
}

#[derive(Debug, Clone)]
pub struct FieldNode {
    pub name: String,
    pub aliases: Vec<String>,
    pub node: NodeId,
    /// The field's default, compiled to a value of the field's type.
    pub default: Option<Value>,
    /// Why the schema's default could not be compiled (the schema had one, but it does not
    /// fit the field's type); only matters when a reader needs it.
    pub default_error: Option<String>,
}

/// One compiled type.
#[derive(Debug, Clone)]
pub struct Node {
    pub kind: Kind,
    pub logical: Option<Logical>,
    /// Full name of a named type (record, enum, fixed).
    pub name: Option<String>,
    /// Full names of its aliases.
    pub aliases: Vec<String>,
    /// The fewest bytes an encoded value of this type can take (to refuse impossible
    /// collection sizes before allocating).
    pub min_size: usize,
}

impl Node {
    /// What this node takes, for error messages: `a string`, `a long (timestamp-millis)`,
    /// `record com.acme.Customer`.
    pub fn describe(&self, nodes: &[Node]) -> String {
        let base = match &self.kind {
            Kind::Null => "null".to_string(),
            Kind::Boolean => "a boolean".to_string(),
            Kind::Int => "an int".to_string(),
            Kind::Long => "a long".to_string(),
            Kind::Float => "a float".to_string(),
            Kind::Double => "a double".to_string(),
            Kind::Bytes => "bytes".to_string(),
            Kind::String => "a string".to_string(),
            Kind::Fixed { size } => format!("fixed {} of {size} bytes", self.display_name()),
            Kind::Enum(e) => format!(
                "enum {} (one of {} symbols)",
                self.display_name(),
                e.symbols.len()
            ),
            Kind::Array(_) => "an array".to_string(),
            Kind::Map(_) => "a map".to_string(),
            Kind::Union(branches) => {
                let names: Vec<String> = branches
                    .iter()
                    .map(|b| {
                        nodes
                            .get(*b as usize)
                            .map(Node::short_name)
                            .unwrap_or_default()
                    })
                    .collect();
                format!("a union [{}]", names.join(", "))
            }
            Kind::Record(_) => format!("record {}", self.display_name()),
        };
        match self.logical {
            Some(l) => format!("{base} ({})", l.as_str()),
            None => base,
        }
    }

    /// The type's name as the schema spells it: `string`, `com.acme.Customer`.
    pub fn short_name(&self) -> String {
        self.type_name().to_string()
    }

    /// [`Self::short_name`] without allocating: the full name of a named type, else the
    /// primitive or complex type's keyword.
    pub fn type_name(&self) -> &str {
        if let Some(name) = &self.name {
            return name;
        }
        match &self.kind {
            Kind::Null => "null",
            Kind::Boolean => "boolean",
            Kind::Int => "int",
            Kind::Long => "long",
            Kind::Float => "float",
            Kind::Double => "double",
            Kind::Bytes => "bytes",
            Kind::String => "string",
            Kind::Fixed { .. } => "fixed",
            Kind::Enum(_) => "enum",
            Kind::Array(_) => "array",
            Kind::Map(_) => "map",
            Kind::Union(_) => "union",
            Kind::Record(_) => "record",
        }
    }

    fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or("(anonymous)")
    }

    /// Whether `value` has this node's shape at its top level: how the encoder and the JSON
    /// writer place a value given for a union without its branch ([`Value::Union`]).
    pub fn fits_shape(&self, value: &Value) -> bool {
        match (&self.kind, value) {
            (Kind::Null, Value::Null)
            | (Kind::Boolean, Value::Boolean(_))
            | (Kind::Int, Value::Int(_))
            | (Kind::Long, Value::Long(_))
            | (Kind::Float, Value::Float(_))
            | (Kind::Double, Value::Double(_))
            | (Kind::Bytes, Value::Bytes(_))
            | (Kind::String, Value::String(_))
            | (Kind::Enum(_), Value::Enum(_))
            | (Kind::Array(_), Value::Array(_))
            | (Kind::Map(_), Value::Map(_)) => true,
            (Kind::Fixed { size }, Value::Fixed(b)) => b.len() == *size,
            (Kind::Record(r), Value::Record(f)) => r.fields.len() == f.len(),
            _ => false,
        }
    }
}

/// A read-only view of one node of a compiled schema.
#[derive(Clone, Copy)]
pub struct NodeRef<'a> {
    pub(crate) nodes: &'a [Node],
    pub(crate) id: NodeId,
}

impl std::fmt::Debug for NodeRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NodeRef({}: {})", self.id, self.describe())
    }
}

impl<'a> NodeRef<'a> {
    fn node(&self) -> &'a Node {
        // Node ids come from the compiler that built the arena; an out-of-range id would be a
        // bug, so fall back to the root rather than panic.
        self.nodes
            .get(self.id as usize)
            .unwrap_or_else(|| &self.nodes[0])
    }

    fn at(&self, id: NodeId) -> NodeRef<'a> {
        NodeRef {
            nodes: self.nodes,
            id,
        }
    }

    pub fn id(&self) -> NodeId {
        self.id
    }

    pub fn kind(&self) -> &'a Kind {
        &self.node().kind
    }

    pub fn logical(&self) -> Option<Logical> {
        self.node().logical
    }

    /// The full name of a named type.
    pub fn name(&self) -> Option<&'a str> {
        self.node().name.as_deref()
    }

    pub fn describe(&self) -> String {
        self.node().describe(self.nodes)
    }

    /// The index of a record's field by name.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        match self.kind() {
            Kind::Record(r) => r.lookup.get(name).copied(),
            _ => None,
        }
    }

    /// A record's fields, in order.
    pub fn fields(&self) -> &'a [FieldNode] {
        match self.kind() {
            Kind::Record(r) => &r.fields,
            _ => &[],
        }
    }

    /// The type of a record's field `index`.
    pub fn field(&self, index: usize) -> Option<NodeRef<'a>> {
        self.fields().get(index).map(|f| self.at(f.node))
    }

    /// The type of a record's field by name.
    pub fn field_named(&self, name: &str) -> Option<(usize, NodeRef<'a>)> {
        let index = self.field_index(name)?;
        self.field(index).map(|n| (index, n))
    }

    /// An array's item type or a map's value type.
    pub fn items(&self) -> Option<NodeRef<'a>> {
        match self.kind() {
            Kind::Array(i) | Kind::Map(i) => Some(self.at(*i)),
            _ => None,
        }
    }

    /// A union's branches.
    pub fn branches(&self) -> Vec<NodeRef<'a>> {
        match self.kind() {
            Kind::Union(b) => b.iter().map(|id| self.at(*id)).collect(),
            _ => Vec::new(),
        }
    }

    /// An enum's symbols.
    pub fn symbols(&self) -> &'a [String] {
        match self.kind() {
            Kind::Enum(e) => &e.symbols,
            _ => &[],
        }
    }

    /// An enum symbol's index.
    pub fn symbol_index(&self, symbol: &str) -> Option<u32> {
        match self.kind() {
            Kind::Enum(e) => e.lookup.get(symbol).copied(),
            _ => None,
        }
    }
}
