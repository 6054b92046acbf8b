//! A flow file checked and compiled: schemas parsed, mappings and programs compiled, routes
//! resolved. Every problem of a file is listed, each naming the file and the key, route or
//! line and column.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use weft_schema::codec::Codec;
use weft_transform::functions::Tables;
use weft_transform::mapping::{CompileOptions, DirectMapping, MappingSpec};
use weft_transform::program::{Condition, Diagnostic, Program, ProgramEnv};

use crate::catalog::{content_start, shift, Catalog};
use crate::logic::{FieldPath, Template};
use crate::spec::{ErrorPolicy, FlowSpec, RouteSpec};

/// A schema the flow reads or writes, compiled.
#[derive(Debug, Clone)]
pub struct FlowSchema {
    /// Full name.
    pub name: String,
    /// The `.avsc` text (what is registered).
    pub text: String,
    pub codec: Arc<Codec>,
}

/// What the flow does to an event before routing it.
pub enum Transform {
    /// Nothing: the input bytes go out unchanged.
    None,
    /// Field mappings only, applied to the decoded record.
    Direct(DirectMapping),
    /// A program (after the explicit field mappings, if any).
    Program {
        mapping: Option<DirectMapping>,
        program: Box<Program>,
    },
}

/// One route, compiled.
pub struct Route {
    pub name: String,
    pub condition: Option<Condition>,
    pub to: Vec<Arc<str>>,
    pub continue_: bool,
    pub key: Option<FieldPath>,
    pub headers: Vec<(String, Template)>,
}

/// A flow ready to run.
pub struct Flow {
    pub name: String,
    pub file: PathBuf,
    pub spec: FlowSpec,
    pub input: FlowSchema,
    /// The output schema; `None` when the flow forwards its input unchanged.
    pub output: Option<FlowSchema>,
    pub transform: Transform,
    pub routes: Vec<Route>,
    /// The default route (`to` empty = drop).
    pub default: Route,
    /// Whether a program or condition reads `%kafka` (built per record only then).
    pub uses_metadata: bool,
    /// The event's top-level fields (indices) the route conditions read, when VRL can name
    /// them: only those are converted to VRL for an event that did not go through a program.
    /// `None`: convert the whole event.
    pub condition_fields: Option<Vec<usize>>,
    /// Every destination topic, each once, in route order (worked out at start-up).
    destinations: Vec<Arc<str>>,
}

impl Flow {
    /// The schema of what routes see and destinations receive.
    pub fn event_schema(&self) -> &FlowSchema {
        self.output.as_ref().unwrap_or(&self.input)
    }

    /// Every destination topic, each once, in route order.
    pub fn destinations(&self) -> &[Arc<str>] {
        &self.destinations
    }

    pub fn policy(&self) -> ErrorPolicy {
        self.spec.errors.policy
    }
}

/// Reads and compiles one flow file. `Err` lists every problem, each starting with the file.
pub fn load(file: &Path, catalog: &Catalog) -> Result<Flow, Vec<String>> {
    let at = file.display().to_string();
    let text =
        std::fs::read_to_string(file).map_err(|e| vec![format!("{at}: cannot read: {e}")])?;
    let spec: FlowSpec = toml::from_str(&text).map_err(|e| {
        vec![format!(
            "{at}: {}",
            e.to_string()
                .trim_end()
                .replace('\n', " ")
                .replace("  ", " ")
        )]
    })?;
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    compile(file, &text, spec, &stem, catalog)
        .map_err(|problems| problems.into_iter().map(|p| format!("{at}: {p}")).collect())
}

/// Compiles a parsed flow; problems are returned without the file prefix.
pub fn compile(
    file: &Path,
    text: &str,
    spec: FlowSpec,
    stem: &str,
    catalog: &Catalog,
) -> Result<Flow, Vec<String>> {
    let mut e = Vec::new();
    let name = spec.name.clone().unwrap_or_else(|| stem.to_string());
    if name.trim().is_empty() {
        e.push("name: must not be empty".to_string());
    }
    if spec.from.is_empty() {
        e.push("from: list at least one input topic".to_string());
    }
    for t in &spec.from {
        if !catalog.knows_topic(t) {
            e.push(format!("from: unknown topic {t:?} (no topics/{t}.toml)"));
        }
    }
    let input = schema(catalog, "input.schema", &spec.input.schema, &mut e);
    let output = spec
        .output
        .as_ref()
        .and_then(|o| schema(catalog, "output.schema", &o.schema, &mut e));
    if spec.output.is_none() && spec.transform.is_some() {
        e.push("transform: a transform needs [output] schema = \"...\" (what it produces)".into());
    }
    let base_dir = file.parent().unwrap_or(Path::new("."));
    let tables = match Tables::load(base_dir, &spec.tables) {
        Ok(t) => Arc::new(t),
        Err(problems) => {
            e.extend(problems.into_iter().map(|p| format!("tables: {p}")));
            Arc::new(Tables::default())
        }
    };
    let env = match ProgramEnv::new(tables, spec.timezone.as_deref()) {
        Ok(env) => Some(env),
        Err(m) => {
            e.push(format!("timezone: {m}"));
            None
        }
    };
    let (Some(input), Some(env)) = (input, env) else {
        return Err(e);
    };
    if spec.output.is_some() && output.is_none() {
        return Err(e);
    }
    let transform = compile_transform(&spec, text, base_dir, &input, output.as_ref(), &env, &mut e);
    let event = output.as_ref().unwrap_or(&input);
    let mut routes = Vec::new();
    let mut uses_metadata = transform_uses_metadata(&transform);
    for (i, r) in spec.routes.iter().enumerate() {
        let label = match &r.name {
            Some(n) => format!("routes[{i}] ({n})"),
            None => format!("routes[{i}]"),
        };
        if let Some(route) = compile_route(&label, r, text, event, &spec, catalog, &env, &mut e) {
            uses_metadata |= route
                .condition
                .as_ref()
                .is_some_and(Condition::uses_metadata);
            routes.push(route);
        }
    }
    let default = match &spec.default {
        None => {
            e.push(
                "[default] is missing: say where records no route matches go (to = [\"...\"]) \
                 or drop them on purpose (drop = true)"
                    .into(),
            );
            None
        }
        Some(d) if d.drop && !d.to.is_empty() => {
            e.push("default: drop = true and to = [...] contradict each other".into());
            None
        }
        Some(d) if !d.drop && d.to.is_empty() => {
            e.push("default: to is empty; name a topic, or set drop = true".into());
            None
        }
        Some(d) => {
            let as_route = RouteSpec {
                name: Some("default".into()),
                when: None,
                to: d.to.clone(),
                continue_: false,
                key: d.key.clone(),
                headers: d.headers.clone(),
            };
            compile_route(
                "default", &as_route, text, event, &spec, catalog, &env, &mut e,
            )
        }
    };
    if spec.errors.topic.trim().is_empty() && spec.errors.policy == ErrorPolicy::DeadLetter {
        e.push("errors.topic: must not be empty with policy = \"dead_letter\"".into());
    } else if spec.errors.policy == ErrorPolicy::DeadLetter
        && !catalog.knows_topic(&spec.errors.topic)
    {
        e.push(format!(
            "errors.topic: unknown topic {:?} (no topics/{}.toml)",
            spec.errors.topic, spec.errors.topic
        ));
    }
    if let Some(o) = &spec.output {
        if let Err(m) = crate::logic::check_subject_template(&o.subject) {
            e.push(format!("output.subject: {m}"));
        }
    }
    let opts =
        crate::options::consumer_options(&name, &spec, "check", std::time::Duration::from_secs(1));
    e.extend(opts.validate());
    match default {
        Some(default) if e.is_empty() => Ok(Flow {
            destinations: all_destinations(&routes, &default),
            condition_fields: condition_fields(&routes, &event.codec),
            name,
            file: file.to_path_buf(),
            spec,
            input,
            output,
            transform,
            routes,
            default,
            uses_metadata,
        }),
        _ => Err(e),
    }
}

/// The indices of the top-level event fields the route conditions read (see
/// [`Flow::condition_fields`]).
fn condition_fields(routes: &[Route], codec: &weft_schema::codec::Codec) -> Option<Vec<usize>> {
    let weft_schema::codec::Kind::Record(record) = codec.root().kind() else {
        return None;
    };
    let mut indices = Vec::new();
    for c in routes.iter().filter_map(|r| r.condition.as_ref()) {
        for name in c.event_fields()? {
            if let Some(i) = record.fields.iter().position(|f| f.name == name) {
                indices.push(i);
            }
        }
    }
    indices.sort_unstable();
    indices.dedup();
    Some(indices)
}

fn schema(catalog: &Catalog, key: &str, name: &str, e: &mut Vec<String>) -> Option<FlowSchema> {
    let Some(text) = catalog.schemas.get(name) else {
        e.push(format!(
            "{key}: unknown schema {name:?} (no schemas/{name}.avsc)"
        ));
        return None;
    };
    match Codec::parse(text, &[]) {
        Ok(codec) => Some(FlowSchema {
            name: name.to_string(),
            text: text.clone(),
            codec: Arc::new(codec),
        }),
        Err(err) => {
            e.push(format!(
                "{key}: schemas/{name}.avsc does not compile: {err}"
            ));
            None
        }
    }
}

fn transform_uses_metadata(t: &Transform) -> bool {
    match t {
        Transform::Program { program, .. } => program.uses_metadata(),
        _ => false,
    }
}

fn compile_transform(
    spec: &FlowSpec,
    text: &str,
    base_dir: &Path,
    input: &FlowSchema,
    output: Option<&FlowSchema>,
    env: &ProgramEnv,
    e: &mut Vec<String>,
) -> Transform {
    let Some(output) = output else {
        return Transform::None;
    };
    let (mapping_spec, program_src) = match &spec.transform {
        None => (MappingSpec::default(), None),
        Some(t) => {
            let mapping = MappingSpec {
                fields: t.fields.clone(),
                drop: t.drop.clone(),
            };
            let program = match (&t.program, &t.program_file) {
                (Some(_), Some(_)) => {
                    e.push("transform: program and program_file: choose one".into());
                    None
                }
                (Some(p), None) => Some((
                    p.get_ref().clone(),
                    content_start(text, p.span().start),
                    String::from("transform.program"),
                )),
                (None, Some(f)) => {
                    let path = base_dir.join(f);
                    match std::fs::read_to_string(&path) {
                        Ok(src) => Some((src, (1, 1), path.display().to_string())),
                        Err(err) => {
                            e.push(format!(
                                "transform.program_file: cannot read {}: {err}",
                                path.display()
                            ));
                            None
                        }
                    }
                }
                (None, None) => None,
            };
            (mapping, program)
        }
    };
    let has_program = program_src.is_some();
    let has_fields = !mapping_spec.fields.is_empty() || !mapping_spec.drop.is_empty();
    let opts = CompileOptions {
        program_follows: has_program,
    };
    let mapping = if has_program && !has_fields {
        None
    } else {
        match DirectMapping::compile(&mapping_spec, &input.codec, &output.codec, opts) {
            Ok(m) => Some(m),
            Err(problems) => {
                e.extend(problems.into_iter().map(|p| p.to_string()));
                None
            }
        }
    };
    match program_src {
        None => match mapping {
            Some(m) => Transform::Direct(m),
            None => Transform::None,
        },
        Some((src, base, origin)) => {
            let set: Vec<(&str, &Codec, u32)> = mapping
                .as_ref()
                .map(|m| {
                    m.explicit()
                        .iter()
                        .map(|f| (f.name.as_str(), output.codec.as_ref(), f.node))
                        .collect()
                })
                .unwrap_or_default();
            match Program::compile_with_fields(
                &src,
                Some((&input.codec, input.codec.root().id())),
                &set,
                env,
            ) {
                Ok(program) => {
                    for p in program.output_problems(&output.codec) {
                        e.push(format!("{origin}: {p}"));
                    }
                    Transform::Program {
                        mapping,
                        program: Box::new(program),
                    }
                }
                Err(diags) => {
                    e.extend(diags.iter().map(|d| located(&origin, base, d)));
                    Transform::None
                }
            }
        }
    }
}

/// A diagnostic at its place in the file.
fn located(origin: &str, base: (usize, usize), d: &Diagnostic) -> String {
    let (line, col) = shift(base, d.line, d.column);
    format!("{origin}, line {line}, column {col}: {}", d.message)
}

#[allow(clippy::too_many_arguments)]
fn compile_route(
    label: &str,
    r: &RouteSpec,
    text: &str,
    event: &FlowSchema,
    spec: &FlowSpec,
    catalog: &Catalog,
    env: &ProgramEnv,
    e: &mut Vec<String>,
) -> Option<Route> {
    let before = e.len();
    if r.to.is_empty() {
        e.push(format!("{label}.to: name at least one destination topic"));
    }
    let mut to = Vec::new();
    for t in &r.to {
        if let Err(m) = crate::logic::check_topic_name(t) {
            e.push(format!("{label}.to: {m}"));
            continue;
        }
        if spec.from.contains(t) {
            e.push(format!(
                "{label}.to: {t:?} is also an input of the flow (a loop)"
            ));
            continue;
        }
        if !catalog.knows_topic(t) {
            e.push(format!(
                "{label}.to: unknown topic {t:?} (no topics/{t}.toml)"
            ));
        } else if let Some(declared) = catalog.value_schema(t) {
            if declared != event.name {
                e.push(format!(
                    "{label}.to: {t:?} carries {declared} (topics/{t}.toml) but the flow's \
                     output is {}: the transform's output must be the destination's schema",
                    event.name
                ));
            }
        }
        to.push(Arc::<str>::from(t.as_str()));
    }
    let condition = r.when.as_ref().and_then(|w| {
        match Condition::compile(
            w.get_ref(),
            Some((&event.codec, event.codec.root().id())),
            env,
        ) {
            Ok(c) => Some(c),
            Err(diags) => {
                let base = content_start(text, w.span().start);
                let origin = format!("{label}.when");
                e.extend(diags.iter().map(|d| located(&origin, base, d)));
                None
            }
        }
    });
    let key = r
        .key
        .as_ref()
        .and_then(|k| match FieldPath::resolve(&event.codec, k) {
            Ok(p) => Some(p),
            Err(m) => {
                e.push(format!("{label}.key: {m}"));
                None
            }
        });
    let mut headers = Vec::new();
    for (name, template) in &r.headers {
        match Template::parse(&event.codec, template) {
            Ok(t) => headers.push((name.clone(), t)),
            Err(m) => e.push(format!("{label}.headers.{name}: {m}")),
        }
    }
    (e.len() == before).then(|| Route {
        name: r.name.clone().unwrap_or_else(|| label.to_string()),
        condition,
        to,
        continue_: r.continue_,
        key,
        headers,
    })
}

/// Every destination of the routes and the default, each once, in route order.
fn all_destinations(routes: &[Route], default: &Route) -> Vec<Arc<str>> {
    let mut out: Vec<Arc<str>> = Vec::new();
    for t in routes
        .iter()
        .chain(std::iter::once(default))
        .flat_map(|r| r.to.iter())
    {
        if !out.contains(t) {
            out.push(t.clone());
        }
    }
    out
}
