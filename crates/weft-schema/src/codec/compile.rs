//! Compiles an `apache_avro::Schema` (plus the schemas it references) into the node arena,
//! once per schema. Named types are resolved here, so decoding never looks a name up.

use std::collections::HashMap;

use apache_avro::schema::{
    DecimalSchema, EnumSchema, FixedSchema, InnerDecimalSchema, Name, NamespaceRef, RecordSchema,
    UuidSchema,
};
use apache_avro::Schema;
use serde_json::Value as Json;

use super::error::CodecError;
use super::schema::{EnumNode, FieldNode, Kind, Logical, Node, NodeId, RecordNode};
use super::value::Value;

/// The most nodes a compiled schema may have.
const MAX_NODES: usize = 1 << 24;

/// The most nesting levels a default value may have.
const MAX_DEFAULT_DEPTH: usize = 64;

pub(crate) struct Compiler<'s> {
    pub(crate) nodes: Vec<Node>,
    /// Compiled named types by full name.
    names: HashMap<String, NodeId>,
    /// Every named type defined in the root schema and the referenced schemas, with the
    /// namespace its definition sits in.
    definitions: HashMap<String, (&'s Schema, Option<String>)>,
    /// Fields whose JSON default is compiled once every node exists.
    pending_defaults: Vec<(NodeId, usize, &'s Json)>,
}

fn full_name(name: &Name, ns: NamespaceRef) -> String {
    name.fully_qualified_name(ns).fullname(None)
}

fn collect_definitions<'s>(
    schema: &'s Schema,
    ns: NamespaceRef,
    out: &mut HashMap<String, (&'s Schema, Option<String>)>,
) {
    match schema {
        Schema::Array(a) => collect_definitions(&a.items, ns, out),
        Schema::Map(m) => collect_definitions(&m.types, ns, out),
        Schema::Union(u) => {
            for v in u.variants() {
                collect_definitions(v, ns, out);
            }
        }
        Schema::Record(RecordSchema { name, fields, .. }) => {
            let fq = name.fully_qualified_name(ns);
            let inner_ns = fq.namespace().map(str::to_string);
            out.entry(fq.fullname(None))
                .or_insert((schema, ns.map(str::to_string)));
            for f in fields {
                collect_definitions(&f.schema, inner_ns.as_deref(), out);
            }
        }
        Schema::Enum(EnumSchema { name, .. })
        | Schema::Fixed(FixedSchema { name, .. })
        | Schema::Uuid(UuidSchema::Fixed(FixedSchema { name, .. }))
        | Schema::Duration(FixedSchema { name, .. })
        | Schema::Decimal(DecimalSchema {
            inner: InnerDecimalSchema::Fixed(FixedSchema { name, .. }),
            ..
        }) => {
            out.entry(full_name(name, ns))
                .or_insert((schema, ns.map(str::to_string)));
        }
        _ => {}
    }
}

fn alias_names(aliases: Option<&Vec<apache_avro::schema::Alias>>, ns: NamespaceRef) -> Vec<String> {
    aliases
        .map(|a| a.iter().map(|alias| alias.fullname(ns)).collect())
        .unwrap_or_default()
}

impl<'s> Compiler<'s> {
    pub(crate) fn new(root: &'s Schema, referenced: &'s [Schema]) -> Self {
        let mut definitions = HashMap::new();
        collect_definitions(root, None, &mut definitions);
        for s in referenced {
            collect_definitions(s, None, &mut definitions);
        }
        Self {
            nodes: Vec::new(),
            names: HashMap::new(),
            definitions,
            pending_defaults: Vec::new(),
        }
    }

    fn push(&mut self, node: Node) -> Result<NodeId, CodecError> {
        if self.nodes.len() >= MAX_NODES {
            return Err(CodecError::TooLarge(MAX_NODES));
        }
        let id = self.nodes.len() as NodeId;
        self.nodes.push(node);
        Ok(id)
    }

    fn simple(&mut self, kind: Kind, logical: Option<Logical>) -> Result<NodeId, CodecError> {
        let min_size = match &kind {
            Kind::Null => 0,
            Kind::Float => 4,
            Kind::Double => 8,
            Kind::Fixed { size } => *size,
            _ => 1,
        };
        self.push(Node {
            kind,
            logical,
            name: None,
            aliases: Vec::new(),
            min_size,
        })
    }

    fn fixed(
        &mut self,
        f: &FixedSchema,
        ns: NamespaceRef,
        logical: Option<Logical>,
    ) -> Result<NodeId, CodecError> {
        let name = full_name(&f.name, ns);
        if let Some(id) = self.names.get(&name) {
            return Ok(*id);
        }
        let id = self.push(Node {
            kind: Kind::Fixed { size: f.size },
            logical,
            name: Some(name.clone()),
            aliases: alias_names(f.aliases.as_ref(), ns),
            min_size: f.size,
        })?;
        self.names.insert(name, id);
        Ok(id)
    }

    /// Compiles `schema`, defined inside namespace `ns`.
    pub(crate) fn compile(
        &mut self,
        schema: &'s Schema,
        ns: NamespaceRef,
    ) -> Result<NodeId, CodecError> {
        use Logical as L;
        match schema {
            Schema::Null => self.simple(Kind::Null, None),
            Schema::Boolean => self.simple(Kind::Boolean, None),
            Schema::Int => self.simple(Kind::Int, None),
            Schema::Long => self.simple(Kind::Long, None),
            Schema::Float => self.simple(Kind::Float, None),
            Schema::Double => self.simple(Kind::Double, None),
            Schema::Bytes => self.simple(Kind::Bytes, None),
            Schema::String => self.simple(Kind::String, None),
            Schema::Date => self.simple(Kind::Int, Some(L::Date)),
            Schema::TimeMillis => self.simple(Kind::Int, Some(L::TimeMillis)),
            Schema::TimeMicros => self.simple(Kind::Long, Some(L::TimeMicros)),
            Schema::TimestampMillis => self.simple(Kind::Long, Some(L::TimestampMillis)),
            Schema::TimestampMicros => self.simple(Kind::Long, Some(L::TimestampMicros)),
            Schema::TimestampNanos => self.simple(Kind::Long, Some(L::TimestampNanos)),
            Schema::LocalTimestampMillis => self.simple(Kind::Long, Some(L::LocalTimestampMillis)),
            Schema::LocalTimestampMicros => self.simple(Kind::Long, Some(L::LocalTimestampMicros)),
            Schema::LocalTimestampNanos => self.simple(Kind::Long, Some(L::LocalTimestampNanos)),
            Schema::BigDecimal => self.simple(Kind::Bytes, Some(L::BigDecimal)),
            Schema::Uuid(UuidSchema::String) => self.simple(Kind::String, Some(L::Uuid)),
            Schema::Uuid(UuidSchema::Bytes) => self.simple(Kind::Bytes, Some(L::Uuid)),
            Schema::Uuid(UuidSchema::Fixed(f)) => self.fixed(f, ns, Some(L::Uuid)),
            Schema::Duration(f) => self.fixed(f, ns, Some(L::Duration)),
            Schema::Decimal(d) => {
                let logical = Some(L::Decimal {
                    precision: d.precision,
                    scale: d.scale,
                });
                match &d.inner {
                    InnerDecimalSchema::Bytes => self.simple(Kind::Bytes, logical),
                    InnerDecimalSchema::Fixed(f) => self.fixed(f, ns, logical),
                }
            }
            Schema::Fixed(f) => self.fixed(f, ns, None),
            Schema::Array(a) => {
                let items = self.compile(&a.items, ns)?;
                self.simple(Kind::Array(items), None)
            }
            Schema::Map(m) => {
                let values = self.compile(&m.types, ns)?;
                self.simple(Kind::Map(values), None)
            }
            Schema::Union(u) => {
                let mut branches = Vec::with_capacity(u.variants().len());
                for v in u.variants() {
                    branches.push(self.compile(v, ns)?);
                }
                self.simple(Kind::Union(branches), None)
            }
            Schema::Enum(e) => {
                let name = full_name(&e.name, ns);
                if let Some(id) = self.names.get(&name) {
                    return Ok(*id);
                }
                let lookup: HashMap<String, u32> = e
                    .symbols
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (s.clone(), i as u32))
                    .collect();
                let default = e.default.as_ref().and_then(|d| lookup.get(d).copied());
                let id = self.push(Node {
                    kind: Kind::Enum(EnumNode {
                        symbols: e.symbols.clone(),
                        default,
                        lookup,
                    }),
                    logical: None,
                    name: Some(name.clone()),
                    aliases: alias_names(e.aliases.as_ref(), ns),
                    min_size: 1,
                })?;
                self.names.insert(name, id);
                Ok(id)
            }
            Schema::Record(r) => self.record(r, ns),
            Schema::Ref { name } => {
                let fq = full_name(name, ns);
                if let Some(id) = self.names.get(&fq) {
                    return Ok(*id);
                }
                match self.definitions.get(&fq) {
                    Some((def, def_ns)) => {
                        let (def, def_ns) = (*def, def_ns.clone());
                        self.compile(def, def_ns.as_deref())
                    }
                    None => Err(CodecError::UnknownName(fq)),
                }
            }
        }
    }

    fn record(&mut self, r: &'s RecordSchema, ns: NamespaceRef) -> Result<NodeId, CodecError> {
        let fq = r.name.fully_qualified_name(ns);
        let name = fq.fullname(None);
        if let Some(id) = self.names.get(&name) {
            return Ok(*id);
        }
        let inner_ns = fq.namespace().map(str::to_string);
        // Registered before its fields so that recursive references find it.
        let id = self.push(Node {
            kind: Kind::Null,
            logical: None,
            name: Some(name.clone()),
            aliases: alias_names(r.aliases.as_ref(), ns),
            min_size: 0,
        })?;
        self.names.insert(name, id);
        let mut fields = Vec::with_capacity(r.fields.len());
        let mut lookup = HashMap::with_capacity(r.fields.len());
        let mut min_size = 0usize;
        for (index, f) in r.fields.iter().enumerate() {
            let node = self.compile(&f.schema, inner_ns.as_deref())?;
            min_size = min_size.saturating_add(self.nodes[node as usize].min_size);
            lookup.insert(f.name.clone(), index);
            if let Some(json) = &f.default {
                self.pending_defaults.push((id, index, json));
            }
            fields.push(FieldNode {
                name: f.name.clone(),
                aliases: f.aliases.clone(),
                node,
                default: None,
                default_error: None,
            });
        }
        let node = &mut self.nodes[id as usize];
        node.kind = Kind::Record(RecordNode { fields, lookup });
        node.min_size = min_size;
        Ok(id)
    }

    /// Compiles the JSON defaults of every record field, once all nodes exist.
    pub(crate) fn finish(mut self) -> Vec<Node> {
        let pending = std::mem::take(&mut self.pending_defaults);
        for (record, index, json) in pending {
            let Some(field_node) = self.field(record, index).map(|f| f.node) else {
                continue;
            };
            let result = json_to_value(&self.nodes, field_node, json, 0);
            if let Kind::Record(r) = &mut self.nodes[record as usize].kind {
                if let Some(f) = r.fields.get_mut(index) {
                    match result {
                        Ok(v) => f.default = Some(v),
                        Err(e) => f.default_error = Some(e),
                    }
                }
            }
        }
        self.nodes
    }

    fn field(&self, record: NodeId, index: usize) -> Option<&FieldNode> {
        match &self.nodes.get(record as usize)?.kind {
            Kind::Record(r) => r.fields.get(index),
            _ => None,
        }
    }
}

/// Bytes and fixed defaults are JSON strings whose code points 0–255 are the bytes.
fn json_bytes(s: &str) -> Result<Vec<u8>, String> {
    s.chars()
        .map(|c| u8::try_from(u32::from(c)).map_err(|_| format!("character {c:?} is not a byte")))
        .collect()
}

fn json_float(json: &Json) -> Option<f64> {
    match json {
        Json::Number(n) => n.as_f64(),
        Json::String(s) if s == "NaN" => Some(f64::NAN),
        Json::String(s) if s == "Infinity" => Some(f64::INFINITY),
        Json::String(s) if s == "-Infinity" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

/// Converts a JSON default (as the Avro spec writes defaults) to a value of node `id`.
pub(crate) fn json_to_value(
    nodes: &[Node],
    id: NodeId,
    json: &Json,
    depth: usize,
) -> Result<Value, String> {
    if depth > MAX_DEFAULT_DEPTH {
        return Err("default is nested too deeply".into());
    }
    let node = &nodes[id as usize];
    let mismatch = || format!("default {json} does not fit {}", node.describe(nodes));
    Ok(match (&node.kind, json) {
        (Kind::Null, Json::Null) => Value::Null,
        (Kind::Boolean, Json::Bool(b)) => Value::Boolean(*b),
        (Kind::Int, Json::Number(n)) => {
            let i = n.as_i64().and_then(|i| i32::try_from(i).ok());
            Value::Int(i.ok_or_else(mismatch)?)
        }
        (Kind::Long, Json::Number(n)) => Value::Long(n.as_i64().ok_or_else(mismatch)?),
        (Kind::Float, j) => Value::Float(json_float(j).ok_or_else(mismatch)? as f32),
        (Kind::Double, j) => Value::Double(json_float(j).ok_or_else(mismatch)?),
        (Kind::Bytes, Json::String(s)) => Value::Bytes(json_bytes(s)?),
        (Kind::String, Json::String(s)) => Value::String(s.clone()),
        (Kind::Fixed { size }, Json::String(s)) => {
            let b = json_bytes(s)?;
            if b.len() != *size {
                return Err(mismatch());
            }
            Value::Fixed(b)
        }
        (Kind::Enum(e), Json::String(s)) => {
            Value::Enum(e.lookup.get(s.as_str()).copied().ok_or_else(mismatch)?)
        }
        (Kind::Array(item), Json::Array(items)) => Value::Array(
            items
                .iter()
                .map(|j| json_to_value(nodes, *item, j, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        (Kind::Map(values), Json::Object(entries)) => Value::Map(
            entries
                .iter()
                .map(|(k, j)| Ok((k.clone(), json_to_value(nodes, *values, j, depth + 1)?)))
                .collect::<Result<_, String>>()?,
        ),
        (Kind::Union(branches), j) => {
            // The spec ties a union default to its first branch; accept any branch that fits
            // (as newer Avro releases do), trying the first one first.
            let mut last = mismatch();
            for (i, b) in branches.iter().enumerate() {
                match json_to_value(nodes, *b, j, depth + 1) {
                    Ok(v) => return Ok(Value::Union(i as u32, Box::new(v))),
                    Err(e) => last = e,
                }
            }
            return Err(last);
        }
        (Kind::Record(r), Json::Object(obj)) => {
            let mut fields = Vec::with_capacity(r.fields.len());
            for f in &r.fields {
                let v = match obj.get(&f.name) {
                    Some(j) => json_to_value(nodes, f.node, j, depth + 1)?,
                    None => match &f.default {
                        Some(v) => v.clone(),
                        None => return Err(format!("default has no value for field {:?}", f.name)),
                    },
                };
                fields.push(v);
            }
            Value::Record(fields)
        }
        _ => return Err(mismatch()),
    })
}
