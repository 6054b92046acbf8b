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
// Tables

/// Where a table comes from, as a flow file declares it:
/// `[tables.regions] path = "regions.csv"` (optionally `key = "code"`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableSpec {
    /// A `.csv` file with a header row, or a `.json` object `{ key: {column: value, …} }`;
    /// relative to the flow file's folder.
    pub path: PathBuf,
    /// The CSV column holding the key (the first column when absent). Not for JSON tables.
    #[serde(default)]
    pub key: Option<String>,
}

/// One loaded table: rows by key, each an object of column → value (strings for CSV).
#[derive(Debug)]
pub struct Table {
    source: PathBuf,
    /// CSV: the header's columns in file order. JSON: every column some row has, sorted.
    columns: Vec<String>,
    /// Whether every cell is a string (CSV tables).
    all_strings: bool,
    rows: HashMap<String, Value>,
}

impl Table {
    /// The row of `key`, an object.
    pub fn row(&self, key: &str) -> Option<&Value> {
        self.rows.get(key)
    }

    /// One cell; `None` when the key is absent or its row lacks the column.
    pub fn cell(&self, key: &str, column: &str) -> Option<&Value> {
        self.rows.get(key)?.as_object()?.get(column)
    }

    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    pub fn has_column(&self, column: &str) -> bool {
        self.columns.iter().any(|c| c == column)
    }

    /// The file the table was loaded from.
    pub fn source(&self) -> &Path {
        &self.source
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The VRL type of a row.
    fn row_kind(&self) -> Kind {
        if self.all_strings {
            Kind::object(Collection::from_parts(
                self.columns
                    .iter()
                    .map(|c| (Field::from(c.as_str()), Kind::bytes()))
                    .collect(),
                Kind::undefined(),
            ))
        } else {
            Kind::object(Collection::any())
        }
    }

    /// The VRL type of a cell.
    fn cell_kind(&self) -> Kind {
        if self.all_strings {
            Kind::bytes()
        } else {
            Kind::any()
        }
    }
}

/// The named static tables of a flow, loaded once at start-up.
#[derive(Debug, Default)]
pub struct Tables {
    tables: BTreeMap<String, Arc<Table>>,
}

impl Tables {
    /// No tables.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Loads every table of `specs` (paths relative to `base_dir`); every problem found is
    /// reported, each naming the file (and the line for CSV).
    pub fn load(
        base_dir: &Path,
        specs: &BTreeMap<String, TableSpec>,
    ) -> Result<Tables, Vec<String>> {
        let mut tables = BTreeMap::new();
        let mut errors = Vec::new();
        for (name, spec) in specs {
            let path = base_dir.join(&spec.path);
            match load_table(&path, spec.key.as_deref()) {
                Ok(table) => {
                    tables.insert(name.clone(), Arc::new(table));
                }
                Err(mut e) => errors.append(&mut e),
            }
        }
        if errors.is_empty() {
            Ok(Tables { tables })
        } else {
            Err(errors)
        }
    }

    pub fn get(&self, name: &str) -> Option<&Arc<Table>> {
        self.tables.get(name)
    }

    /// The table names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tables.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.tables.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    fn known_list(&self) -> String {
        if self.tables.is_empty() {
            "the flow declares no tables".to_string()
        } else {
            format!(
                "known tables: {}",
                self.names().collect::<Vec<_>>().join(", ")
            )
        }
    }
}

fn load_table(path: &Path, key: Option<&str>) -> Result<Table, Vec<String>> {
    let shown = path.display();
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => return Err(vec![format!("table file {shown}: cannot read it: {e}")]),
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    match extension.as_deref() {
        Some("csv") => load_csv(path, text, key),
        Some("json") => match key {
            Some(_) => Err(vec![format!(
                "table file {shown}: `key` names a column of a CSV table; a JSON table is keyed by its object's keys"
            )]),
            None => load_json(path, text).map_err(|e| vec![e]),
        },
        _ => Err(vec![format!(
            "table file {shown}: unknown format (the file name must end in .csv or .json)"
        )]),
    }
}

fn load_csv(path: &Path, text: &str, key: Option<&str>) -> Result<Table, Vec<String>> {
    let shown = path.display();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let columns: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_string).collect(),
        Err(e) => return Err(vec![format!("table file {shown}: {e}")]),
    };
    if columns.is_empty() || columns.iter().all(String::is_empty) {
        return Err(vec![format!("table file {shown}: the header row is empty")]);
    }
    let mut errors = Vec::new();
    let mut seen_columns = HashMap::new();
    for (i, c) in columns.iter().enumerate() {
        if let Some(first) = seen_columns.insert(c.as_str(), i) {
            errors.push(format!(
                "table file {shown}, line 1: column {c:?} appears twice (columns {} and {})",
                first + 1,
                i + 1
            ));
        }
    }
    let key_index = match key {
        None => 0,
        Some(k) => match columns.iter().position(|c| c == k) {
            Some(i) => i,
            None => {
                errors.push(format!(
                    "table file {shown}, line 1: no key column {k:?} (the columns are {})",
                    columns.join(", ")
                ));
                return Err(errors);
            }
        },
    };
    let keys: Vec<KeyString> = columns
        .iter()
        .map(|c| KeyString::from(c.as_str()))
        .collect();
    let mut rows: HashMap<String, Value> = HashMap::new();
    let mut lines: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                errors.push(format!("table file {shown}, line {line}: {e}"));
                continue;
            }
        };
        let line = record.position().map_or(0, csv::Position::line);
        if record.len() != columns.len() {
            errors.push(format!(
                "table file {shown}, line {line}: {} fields, but the header has {} columns",
                record.len(),
                columns.len()
            ));
            continue;
        }
        let key = record.get(key_index).unwrap_or_default().to_string();
        if let Some(first) = lines.get(&key) {
            errors.push(format!(
                "table file {shown}, line {line}: duplicate key {key:?} (first on line {first})"
            ));
            continue;
        }
        let row: ObjectMap = keys
            .iter()
            .cloned()
            .zip(record.iter().map(Value::from))
            .collect();
        lines.insert(key.clone(), line);
        rows.insert(key, Value::Object(row));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Table {
        source: path.to_path_buf(),
        columns,
        all_strings: true,
        rows,
    })
}

fn load_json(path: &Path, text: &str) -> Result<Table, String> {
    let shown = path.display();
    let json: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| format!("table file {shown}, line {}: {e}", e.line()))?;
    let serde_json::Value::Object(object) = json else {
        return Err(format!(
            "table file {shown}: expected a JSON object {{ key: {{column: value, …}} }}"
        ));
    };
    let mut columns = std::collections::BTreeSet::new();
    let mut rows = HashMap::with_capacity(object.len());
    for (key, row) in object {
        let serde_json::Value::Object(cells) = row else {
            return Err(format!(
                "table file {shown}: the row {key:?} is not an object {{column: value, …}}"
            ));
        };
        let row: ObjectMap = cells
            .into_iter()
            .map(|(column, cell)| {
                columns.insert(column.clone());
                (KeyString::from(column), json_to_vrl(cell))
            })
            .collect();
        rows.insert(key, Value::Object(row));
    }
    Ok(Table {
        source: path.to_path_buf(),
        columns: columns.into_iter().collect(),
        all_strings: false,
        rows,
    })
}

fn json_to_vrl(json: serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Boolean(b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Integer(i),
            None => n.as_f64().map_or(Value::Null, Value::from_f64_or_zero),
        },
        serde_json::Value::String(s) => Value::from(s),
        serde_json::Value::Array(items) => {
            Value::Array(items.into_iter().map(json_to_vrl).collect())
        }
        serde_json::Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (KeyString::from(k), json_to_vrl(v)))
                .collect(),
        ),
    }
}

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

#[cfg(test)]
mod tests;
