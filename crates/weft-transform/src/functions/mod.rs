//! Weft's own VRL functions, and the static lookup tables they read.
//!
//! - `lookup(table, key [, column])`: the row of a static table (loaded at start-up from a
//!   CSV or JSON file named in the flow) as an object, or one column's value; null when the
//!   key is absent. The table (and the column, when given) must be literal strings and are
//!   checked when the program compiles.
//! - `mask(value [, keep_last = 0] [, char = "*"])`: replaces every character but the last
//!   `keep_last` by `char`; null stays null.
//!
//! Hashing is VRL's own `sha2`, `sha3`, `hmac`…; [`functions`] gives them all with these two.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use vrl::compiler::codes::FunctionCode;
use vrl::diagnostic::Label;
use vrl::prelude::*;

// ---------------------------------------------------------------------------------------
// Function list

/// VRL's standard library (the features Weft builds it with) plus Weft's functions.
pub fn functions(tables: Arc<Tables>) -> Vec<Box<dyn Function>> {
    let mut list = vrl::stdlib::all();
    list.push(Box::new(Lookup { tables }));
    list.push(Box::new(Mask));
    list
}

/// A compile-time error of a Weft function (shown at the call's position).
#[derive(Debug)]
struct CompileError(String);

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CompileError {}

impl DiagnosticMessage for CompileError {
    fn code(&self) -> usize {
        FunctionCode::InvalidArgument as usize
    }

    fn labels(&self) -> Vec<Label> {
        vec![Label::primary(self.0.clone(), Span::default())]
    }
}

fn compile_error(message: String) -> Box<dyn DiagnosticMessage> {
    Box::new(CompileError(message))
}

// ---------------------------------------------------------------------------------------
// lookup

#[derive(Debug, Clone)]
struct Lookup {
    tables: Arc<Tables>,
}

impl Function for Lookup {
    fn identifier(&self) -> &'static str {
        "lookup"
    }

    fn summary(&self) -> &'static str {
        "Looks a key up in a static table of the flow."
    }

    fn usage(&self) -> &'static str {
        "Returns the row of `key` in the static table `table` (declared in the flow's [tables]) \
         as an object, or the value of its `column`; null when the table has no such key. \
         Integer keys are looked up by their decimal text. `table` and `column` must be literal strings."
    }

    fn category(&self) -> &'static str {
        Category::Object.as_ref()
    }

    fn return_kind(&self) -> u16 {
        kind::ANY
    }

    fn parameters(&self) -> &'static [Parameter] {
        const PARAMETERS: &[Parameter] = &[
            Parameter::required("table", kind::BYTES, "The table's name (a literal string)."),
            Parameter::required(
                "key",
                kind::BYTES | kind::INTEGER | kind::NULL,
                "The key to look up (null gives null).",
            ),
            Parameter::optional(
                "column",
                kind::BYTES,
                "Return only this column's value (a literal string).",
            ),
        ];
        PARAMETERS
    }

    fn examples(&self) -> &'static [Example] {
        &[]
    }

    fn compile(
        &self,
        state: &TypeState,
        _ctx: &mut FunctionCompileContext,
        arguments: ArgumentList,
    ) -> Compiled {
        let name = arguments.required_literal("table", state)?;
        let Some(name) = name.to_str().map(str::to_string) else {
            return Err(compile_error(format!(
                "the table name must be a string, not {name}"
            )));
        };
        let Some(table) = self.tables.get(&name).cloned() else {
            return Err(compile_error(format!(
                "unknown table {name:?} ({})",
                self.tables.known_list()
            )));
        };
        let column = match arguments.optional_literal("column", state)? {
            None => None,
            Some(c) => {
                let Some(c) = c.to_str().map(str::to_string) else {
                    return Err(compile_error(format!(
                        "the column must be a string, not {c}"
                    )));
                };
                // JSON rows may each have their own columns; only CSV tables are checked.
                if table.all_strings && !table.has_column(&c) {
                    return Err(compile_error(format!(
                        "table {name:?} has no column {c:?} (its columns are {})",
                        table.columns().join(", ")
                    )));
                }
                Some(KeyString::from(c))
            }
        };
        let key = arguments.required("key");
        Ok(LookupFn { table, key, column }.as_expr())
    }
}

#[derive(Debug, Clone)]
struct LookupFn {
    table: Arc<Table>,
    key: Box<dyn Expression>,
    column: Option<KeyString>,
}

impl FunctionExpression for LookupFn {
    fn resolve(&self, ctx: &mut Context) -> Resolved {
        let key = self.key.resolve(ctx)?;
        let row = match &key {
            Value::Null => return Ok(Value::Null),
            Value::Integer(i) => self.table.row(&i.to_string()),
            Value::Bytes(_) | Value::String(_) => match key.to_str_lossy() {
                Some(k) => self.table.row(&k),
                None => None,
            },
            other => {
                return Err(format!(
                    "lookup: a key must be a string or an integer, not {}",
                    other.kind_str()
                )
                .into())
            }
        };
        let Some(row) = row else {
            return Ok(Value::Null);
        };
        Ok(match &self.column {
            None => row.clone(),
            Some(column) => row
                .as_object()
                .and_then(|r| r.get(column))
                .cloned()
                .unwrap_or(Value::Null),
        })
    }

    fn type_def(&self, _state: &TypeState) -> TypeDef {
        let kind = match &self.column {
            None => self.table.row_kind(),
            Some(_) => self.table.cell_kind(),
        };
        TypeDef::from(kind.or_null()).infallible()
    }
}

// ---------------------------------------------------------------------------------------
// mask

#[derive(Debug, Clone, Copy)]
struct Mask;

impl Function for Mask {
    fn identifier(&self) -> &'static str {
        "mask"
    }

    fn summary(&self) -> &'static str {
        "Masks a string but its last characters."
    }

    fn usage(&self) -> &'static str {
        "Replaces every character of `value` but the last `keep_last` (default 0) by `char` \
         (default \"*\"). Characters, not bytes, are counted. Null gives null."
    }

    fn category(&self) -> &'static str {
        Category::String.as_ref()
    }

    fn return_kind(&self) -> u16 {
        kind::BYTES | kind::NULL
    }

    fn parameters(&self) -> &'static [Parameter] {
        const PARAMETERS: &[Parameter] = &[
            Parameter::required("value", kind::BYTES | kind::NULL, "The string to mask."),
            Parameter::optional(
                "keep_last",
                kind::INTEGER,
                "How many characters to leave visible at the end (default 0).",
            ),
            Parameter::optional(
                "char",
                kind::BYTES,
                "What replaces each masked character (default \"*\").",
            ),
        ];
        PARAMETERS
    }

    fn examples(&self) -> &'static [Example] {
        &[]
    }

    fn compile(
        &self,
        _state: &TypeState,
        _ctx: &mut FunctionCompileContext,
        arguments: ArgumentList,
    ) -> Compiled {
        Ok(MaskFn {
            value: arguments.required("value"),
            keep_last: arguments.optional("keep_last"),
            mask: arguments.optional("char"),
        }
        .as_expr())
    }
}

#[derive(Debug, Clone)]
struct MaskFn {
    value: Box<dyn Expression>,
    keep_last: Option<Box<dyn Expression>>,
    mask: Option<Box<dyn Expression>>,
}

impl FunctionExpression for MaskFn {
    fn resolve(&self, ctx: &mut Context) -> Resolved {
        let value = self.value.resolve(ctx)?;
        let keep_last = match &self.keep_last {
            Some(e) => e.resolve(ctx)?.try_integer()?.max(0),
            None => 0,
        };
        let mask = match &self.mask {
            Some(e) => Some(e.resolve(ctx)?),
            None => None,
        };
        if value.is_null() {
            return Ok(Value::Null);
        }
        let text = value.try_bytes_utf8_lossy()?;
        let mask = match &mask {
            Some(m) => m.try_bytes_utf8_lossy()?,
            None => "*".into(),
        };
        Ok(Value::from(mask_text(&text, keep_last, &mask)))
    }

    fn type_def(&self, state: &TypeState) -> TypeDef {
        if self.value.type_def(state).kind().contains_null() {
            TypeDef::bytes().or_null().infallible()
        } else {
            TypeDef::bytes().infallible()
        }
    }
}

/// `text` with every character but the last `keep_last` replaced by `mask`.
pub fn mask_text(text: &str, keep_last: i64, mask: &str) -> String {
    let chars = text.chars().count();
    let keep = usize::try_from(keep_last).unwrap_or(0).min(chars);
    let hidden = chars - keep;
    let mut out = String::with_capacity(hidden * mask.len() + text.len());
    let mut rest = text.chars();
    for _ in 0..hidden {
        rest.next();
        out.push_str(mask);
    }
    out.extend(rest);
    out
}

mod tables;
pub use tables::{Table, TableSpec, Tables};
#[cfg(test)]
mod tests;
