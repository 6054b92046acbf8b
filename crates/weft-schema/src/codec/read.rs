//! Decoding: the byte reader, value building, and the allocation-free walk used by
//! `validate` and to skip writer-only fields.

use super::error::{DecodeError, DecodeErrorKind as K, PathSegment};
use super::schema::{Kind, Node, NodeId};
use super::value::Value;

/// The most items an array or map of zero-byte items (nulls, empty records) may claim.
pub const MAX_EMPTY_ITEMS: u64 = 1 << 20;

/// A cursor over an Avro body that knows its offset for error messages.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    #[inline]
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    #[inline]
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Fails unless the whole body was read.
    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(DecodeError::new(self.pos, K::TrailingBytes(n))),
        }
    }

    #[inline]
    fn varint(&mut self) -> Result<u64, DecodeError> {
        let buf = self.buf;
        let start = self.pos;
        let mut i = start;
        let mut result: u64 = 0;
        let mut shift = 0u32;
        loop {
            let Some(&b) = buf.get(i) else {
                return Err(DecodeError::new(start, K::VarintTruncated));
            };
            i += 1;
            if shift == 63 && b > 1 {
                return Err(DecodeError::new(start, K::VarintOverflow));
            }
            result |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                self.pos = i;
                return Ok(result);
            }
            shift += 7;
            if shift > 63 {
                return Err(DecodeError::new(start, K::VarintOverflow));
            }
        }
    }

    #[inline]
    pub(crate) fn long(&mut self) -> Result<i64, DecodeError> {
        let n = self.varint()?;
        Ok(((n >> 1) as i64) ^ -((n & 1) as i64))
    }

    #[inline]
    pub(crate) fn int(&mut self) -> Result<i32, DecodeError> {
        let start = self.pos;
        let l = self.long()?;
        i32::try_from(l).map_err(|_| DecodeError::new(start, K::IntOutOfRange(l)))
    }

    #[inline]
    pub(crate) fn boolean(&mut self) -> Result<bool, DecodeError> {
        match self.buf.get(self.pos) {
            Some(0) => {
                self.pos += 1;
                Ok(false)
            }
            Some(1) => {
                self.pos += 1;
                Ok(true)
            }
            Some(b) => Err(DecodeError::new(self.pos, K::BadBoolean(*b))),
            None => Err(self.end("a boolean", 1)),
        }
    }

    #[cold]
    #[inline(never)]
    fn end(&self, what: &'static str, needed: usize) -> DecodeError {
        DecodeError::new(
            self.pos,
            K::UnexpectedEnd {
                what,
                needed,
                remaining: self.remaining(),
            },
        )
    }

    #[inline]
    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let buf = self.buf;
        let slice = self
            .pos
            .checked_add(n)
            .and_then(|end| buf.get(self.pos..end));
        match slice {
            Some(s) => {
                self.pos += n;
                Ok(s)
            }
            None => Err(self.end(what, n)),
        }
    }

    #[inline]
    pub(crate) fn float(&mut self) -> Result<f32, DecodeError> {
        let b = self.take(4, "a float")?;
        let mut a = [0u8; 4];
        a.copy_from_slice(b);
        Ok(f32::from_le_bytes(a))
    }

    #[inline]
    pub(crate) fn double(&mut self) -> Result<f64, DecodeError> {
        let b = self.take(8, "a double")?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(f64::from_le_bytes(a))
    }

    /// A length-prefixed byte run (`bytes` or `string`).
    #[inline]
    pub(crate) fn len_prefixed(&mut self, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let start = self.pos;
        let len = self.long()?;
        if len < 0 {
            return Err(DecodeError::new(
                start,
                K::NegativeLength { what, length: len },
            ));
        }
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        self.take(len, what).map_err(|e| {
            DecodeError::new(
                start,
                K::UnexpectedEnd {
                    what,
                    needed: len,
                    remaining: match e.kind() {
                        K::UnexpectedEnd { remaining, .. } => *remaining,
                        _ => 0,
                    },
                },
            )
        })
    }

    #[inline]
    pub(crate) fn str(&mut self) -> Result<&'a str, DecodeError> {
        let start = self.pos;
        let bytes = self.len_prefixed("string")?;
        std::str::from_utf8(bytes)
            .map_err(|e| DecodeError::new(start, K::InvalidUtf8(e.valid_up_to())))
    }

    /// The item count of the next array or map block (0 ends the collection). A negative
    /// count is followed by the block's byte size, which is read and ignored.
    #[inline]
    pub(crate) fn block_len(
        &mut self,
        what: &'static str,
        item_min_size: usize,
        map: bool,
    ) -> Result<usize, DecodeError> {
        let start = self.pos;
        let raw = self.long()?;
        if raw == 0 {
            return Ok(0);
        }
        let count = if raw < 0 {
            let size_at = self.pos;
            let size = self.long()?;
            if size < 0 {
                return Err(DecodeError::new(
                    size_at,
                    K::NegativeLength {
                        what: "block byte size",
                        length: size,
                    },
                ));
            }
            raw.unsigned_abs()
        } else {
            raw.unsigned_abs()
        };
        // A map entry holds at least its key's length byte.
        let per_item = item_min_size + usize::from(map);
        if per_item == 0 {
            if count > MAX_EMPTY_ITEMS {
                return Err(DecodeError::new(start, K::TooManyEmptyItems(count)));
            }
        } else {
            let min_bytes = u128::from(count) * per_item as u128;
            if min_bytes > self.remaining() as u128 {
                return Err(DecodeError::new(
                    start,
                    K::CollectionTooLong {
                        what,
                        items: count,
                        min_bytes,
                        remaining: self.remaining(),
                    },
                ));
            }
        }
        Ok(usize::try_from(count).unwrap_or(usize::MAX))
    }
}

#[inline]
pub(crate) fn enum_index(r: &mut Reader<'_>, symbols: usize) -> Result<u32, DecodeError> {
    let start = r.pos();
    let i = r.long()?;
    if i < 0 || i as u64 >= symbols as u64 {
        return Err(DecodeError::new(start, K::EnumIndex { index: i, symbols }));
    }
    Ok(i as u32)
}

#[inline]
pub(crate) fn union_branch(r: &mut Reader<'_>, branches: usize) -> Result<usize, DecodeError> {
    let start = r.pos();
    let i = r.long()?;
    if i < 0 || i as u64 >= branches as u64 {
        return Err(DecodeError::new(
            start,
            K::UnionBranch { index: i, branches },
        ));
    }
    Ok(i as usize)
}

/// How deeply values may nest (records, arrays, maps, unions): recursive schemas could
/// otherwise make hostile input exhaust the stack.
pub const MAX_DEPTH: u32 = 192;

#[cold]
#[inline(never)]
pub(crate) fn too_deep(r: &Reader<'_>) -> DecodeError {
    DecodeError::new(r.pos(), K::TooDeep(MAX_DEPTH))
}

/// Decodes one value of node `id`, `depth` levels down. Scalars are decoded inline in the
/// caller (a record's field loop), nested types out of line.
#[inline(always)]
pub(crate) fn read(
    nodes: &[Node],
    id: NodeId,
    r: &mut Reader<'_>,
    depth: u32,
) -> Result<Value, DecodeError> {
    let node = &nodes[id as usize];
    Ok(match &node.kind {
        Kind::Null => Value::Null,
        Kind::Boolean => Value::Boolean(r.boolean()?),
        Kind::Int => Value::Int(r.int()?),
        Kind::Long => Value::Long(r.long()?),
        Kind::Float => Value::Float(r.float()?),
        Kind::Double => Value::Double(r.double()?),
        Kind::Bytes => Value::Bytes(r.len_prefixed("bytes")?.to_vec()),
        Kind::String => Value::String(r.str()?.to_owned()),
        Kind::Fixed { size } => Value::Fixed(r.take(*size, "a fixed")?.to_vec()),
        Kind::Enum(e) => Value::Enum(enum_index(r, e.symbols.len())?),
        Kind::Union(_) | Kind::Record(_) | Kind::Array(_) | Kind::Map(_) => {
            let mut one = None;
            read_nested(nodes, node, r, depth, &mut one)?;
            one.unwrap_or(Value::Null)
        }
    })
}

/// Where a nested value goes once decoded: pushed onto its parent's vector, or kept as the
/// single result. Handing the destination down (instead of returning the value) spares a
/// copy of every nested value through the stack (measured: about a tenth of decode time).
pub(crate) trait Sink {
    fn put(&mut self, v: Value);
}

impl Sink for Vec<Value> {
    #[inline(always)]
    fn put(&mut self, v: Value) {
        self.push(v);
    }
}

impl Sink for Option<Value> {
    #[inline(always)]
    fn put(&mut self, v: Value) {
        *self = Some(v);
    }
}

/// Decodes one value of node `id` onto the end of `out`.
#[inline(always)]
pub(crate) fn read_push(
    nodes: &[Node],
    id: NodeId,
    r: &mut Reader<'_>,
    depth: u32,
    out: &mut Vec<Value>,
) -> Result<(), DecodeError> {
    let node = &nodes[id as usize];
    match &node.kind {
        Kind::Null => out.push(Value::Null),
        Kind::Boolean => out.push(Value::Boolean(r.boolean()?)),
        Kind::Int => out.push(Value::Int(r.int()?)),
        Kind::Long => out.push(Value::Long(r.long()?)),
        Kind::Float => out.push(Value::Float(r.float()?)),
        Kind::Double => out.push(Value::Double(r.double()?)),
        Kind::Bytes => out.push(Value::Bytes(r.len_prefixed("bytes")?.to_vec())),
        Kind::String => out.push(Value::String(r.str()?.to_owned())),
        Kind::Fixed { size } => out.push(Value::Fixed(r.take(*size, "a fixed")?.to_vec())),
        Kind::Enum(e) => out.push(Value::Enum(enum_index(r, e.symbols.len())?)),
        Kind::Union(_) | Kind::Record(_) | Kind::Array(_) | Kind::Map(_) => {
            read_nested(nodes, node, r, depth, out)?;
        }
    }
    Ok(())
}

#[inline(never)]
fn read_nested<S: Sink>(
    nodes: &[Node],
    node: &Node,
    r: &mut Reader<'_>,
    depth: u32,
    out: &mut S,
) -> Result<(), DecodeError> {
    if depth > MAX_DEPTH {
        return Err(too_deep(r));
    }
    let depth = depth + 1;
    let v = match &node.kind {
        Kind::Union(branches) => {
            let b = union_branch(r, branches.len())?;
            Value::Union(b as u32, Box::new(read(nodes, branches[b], r, depth)?))
        }
        Kind::Record(rec) => {
            let mut fields = Vec::with_capacity(rec.fields.len());
            for f in &rec.fields {
                if let Err(e) = read_push(nodes, f.node, r, depth, &mut fields) {
                    return Err(e.in_field(&f.name));
                }
            }
            out.put(Value::Record(fields));
            return Ok(());
        }
        Kind::Array(item) => {
            let item_min = nodes[*item as usize].min_size;
            let mut items = Vec::new();
            loop {
                let n = r.block_len("array block", item_min, false)?;
                if n == 0 {
                    break;
                }
                items.reserve(n.min(1024));
                for _ in 0..n {
                    let at = items.len();
                    read_push(nodes, *item, r, depth, &mut items)
                        .map_err(|e| e.at(PathSegment::Index(at)))?;
                }
            }
            Value::Array(items)
        }
        Kind::Map(values) => {
            let item_min = nodes[*values as usize].min_size;
            let mut entries = Vec::new();
            loop {
                let n = r.block_len("map block", item_min, true)?;
                if n == 0 {
                    break;
                }
                entries.reserve(n.min(1024));
                for _ in 0..n {
                    let key = r.str()?;
                    let v = read(nodes, *values, r, depth)
                        .map_err(|e| e.at(PathSegment::Key(key.to_string())))?;
                    entries.push((key.to_owned(), v));
                }
            }
            Value::Map(entries)
        }
        // Scalars never come here (`read` decodes them); decode them anyway.
        _ => read_scalar_fallback(node, r)?,
    };
    out.put(v);
    Ok(())
}

#[cold]
fn read_scalar_fallback(node: &Node, r: &mut Reader<'_>) -> Result<Value, DecodeError> {
    let nodes = std::slice::from_ref(node);
    read(nodes, 0, r, 0)
}

/// Walks one value of node `id` without building it, checking everything `read` checks.
#[inline(always)]
pub(crate) fn skip(
    nodes: &[Node],
    id: NodeId,
    r: &mut Reader<'_>,
    depth: u32,
) -> Result<(), DecodeError> {
    let node = &nodes[id as usize];
    match &node.kind {
        Kind::Null => {}
        Kind::Boolean => {
            r.boolean()?;
        }
        Kind::Int => {
            r.int()?;
        }
        Kind::Long => {
            r.long()?;
        }
        Kind::Float => {
            r.take(4, "a float")?;
        }
        Kind::Double => {
            r.take(8, "a double")?;
        }
        Kind::Bytes => {
            r.len_prefixed("bytes")?;
        }
        Kind::String => {
            r.str()?;
        }
        Kind::Fixed { size } => {
            r.take(*size, "a fixed")?;
        }
        Kind::Enum(e) => {
            enum_index(r, e.symbols.len())?;
        }
        Kind::Union(_) | Kind::Record(_) | Kind::Array(_) | Kind::Map(_) => {
            skip_nested(nodes, node, r, depth)?;
        }
    }
    Ok(())
}

#[inline(never)]
fn skip_nested(
    nodes: &[Node],
    node: &Node,
    r: &mut Reader<'_>,
    depth: u32,
) -> Result<(), DecodeError> {
    if depth > MAX_DEPTH {
        return Err(too_deep(r));
    }
    let depth = depth + 1;
    match &node.kind {
        Kind::Union(branches) => {
            let b = union_branch(r, branches.len())?;
            skip(nodes, branches[b], r, depth)?;
        }
        Kind::Record(rec) => {
            for f in &rec.fields {
                if let Err(e) = skip(nodes, f.node, r, depth) {
                    return Err(e.in_field(&f.name));
                }
            }
        }
        Kind::Array(item) => {
            let item_min = nodes[*item as usize].min_size;
            let mut at = 0usize;
            loop {
                let n = r.block_len("array block", item_min, false)?;
                if n == 0 {
                    break;
                }
                for _ in 0..n {
                    skip(nodes, *item, r, depth).map_err(|e| e.at(PathSegment::Index(at)))?;
                    at += 1;
                }
            }
        }
        Kind::Map(values) => {
            let item_min = nodes[*values as usize].min_size;
            loop {
                let n = r.block_len("map block", item_min, true)?;
                if n == 0 {
                    break;
                }
                for _ in 0..n {
                    let key = r.str()?;
                    skip(nodes, *values, r, depth)
                        .map_err(|e| e.at(PathSegment::Key(key.to_string())))?;
                }
            }
        }
        // Scalars never come here (`skip` walks them).
        _ => {
            let nodes = std::slice::from_ref(node);
            skip(nodes, 0, r, 0)?;
        }
    }
    Ok(())
}
