//! Static lookup tables loaded at start-up from CSV or JSON files.

use super::*;

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
    pub(super) all_strings: bool,
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
    pub(super) fn row_kind(&self) -> Kind {
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
    pub(super) fn cell_kind(&self) -> Kind {
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

    pub(super) fn known_list(&self) -> String {
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

pub(super) fn load_table(path: &Path, key: Option<&str>) -> Result<Table, Vec<String>> {
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

pub(super) fn load_csv(path: &Path, text: &str, key: Option<&str>) -> Result<Table, Vec<String>> {
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

pub(super) fn load_json(path: &Path, text: &str) -> Result<Table, String> {
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

pub(super) fn json_to_vrl(json: serde_json::Value) -> Value {
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
