//! Compiling a mapping: every output field checked against both schemas and planned into a
//! [`Slot`], every problem listed.

use weft_schema::codec::{Codec, Kind, NodeId, NodeRef};

use super::cast::{self, Scalar, CAST_NAMES};
use super::constant;
use super::conv::{Conv, Planner};
use super::mask::Mask;
use super::nodes::{non_null_branches, null_value, nullable, record_of};
use super::suggest::{closest, suggestion};
use super::{
    quote, Body, CompileOptions, Constant, DirectMapping, ExplicitField, FieldSource, MappingError,
    MappingSpec, Read, Slot, Source,
};

pub(super) struct Compiler<'a> {
    spec: &'a MappingSpec,
    input: &'a Codec,
    output: &'a Codec,
    opts: CompileOptions,
    planner: Planner<'a>,
    errors: Vec<MappingError>,
}

impl<'a> Compiler<'a> {
    pub(super) fn new(
        spec: &'a MappingSpec,
        input: &'a Codec,
        output: &'a Codec,
        opts: CompileOptions,
    ) -> Self {
        Self {
            spec,
            input,
            output,
            opts,
            planner: Planner::new(input, output),
            errors: Vec::new(),
        }
    }

    pub(super) fn compile(mut self) -> Result<DirectMapping, Vec<MappingError>> {
        let (in_root, out_root) = (self.input.root(), self.output.root());
        for (which, root) in [("input", in_root), ("output", out_root)] {
            if !matches!(root.kind(), Kind::Record(_)) {
                self.errors.push(MappingError::invalid(
                    "",
                    format!(
                        "the {which} schema is not a record (it is {})",
                        root.describe()
                    ),
                ));
            }
        }
        if !self.errors.is_empty() {
            return Err(self.errors);
        }

        let input_names: Vec<&str> = in_root.fields().iter().map(|f| f.name.as_str()).collect();
        for d in &self.spec.drop {
            if in_root.field_index(d).is_none() {
                self.errors.push(MappingError::invalid(
                    "",
                    format!(
                        "transform.drop: the input schema has no field {d}{}",
                        suggestion(d, &input_names)
                    ),
                ));
            }
        }

        let out_fields = out_root.fields();
        let output_names: Vec<&str> = out_fields.iter().map(|f| f.name.as_str()).collect();
        let mut sources: Vec<Option<Source>> = (0..out_fields.len()).map(|_| None).collect();
        let mut explicit = vec![false; out_fields.len()];
        for (name, src) in &self.spec.fields {
            let Some(j) = out_root.field_index(name) else {
                self.errors.push(MappingError::invalid(
                    name,
                    format!(
                        "transform.fields.{name}: the output schema has no field {name}{}",
                        suggestion(name, &output_names)
                    ),
                ));
                continue;
            };
            explicit[j] = true;
            let Some(out_node) = out_root.field(j) else {
                continue;
            };
            match self.explicit(name, out_node, src) {
                Ok(source) => sources[j] = Some(source),
                Err(problems) => {
                    for p in problems {
                        self.errors.push(MappingError::invalid(
                            name,
                            format!("transform.fields.{name}: {p}"),
                        ));
                    }
                }
            }
        }

        for (j, f) in out_fields.iter().enumerate() {
            if explicit[j] {
                continue;
            }
            match self.implicit(j) {
                Ok(source) => sources[j] = Some(source),
                Err(problem) => self.errors.push(MappingError::invalid(&f.name, problem)),
            }
        }

        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        let mut slots = Vec::with_capacity(out_fields.len());
        let mut listed = Vec::new();
        for (j, (f, source)) in out_fields.iter().zip(sources).enumerate() {
            if explicit[j] {
                listed.push(ExplicitField {
                    name: f.name.clone(),
                    index: j,
                    node: f.node,
                });
            }
            slots.push(Slot {
                name: f.name.as_str().into(),
                source: source.unwrap_or(Source::Missing),
            });
        }
        Ok(DirectMapping {
            slots: slots.into(),
            explicit: listed,
            dropped: self.spec.drop.clone(),
        })
    }

    /// An output field from `transform.fields`; the problems are listed without the
    /// `transform.fields.<name>: ` prefix.
    fn explicit(
        &self,
        name: &str,
        out: NodeRef<'a>,
        src: &FieldSource,
    ) -> Result<Source, Vec<String>> {
        match (&src.from, &src.value) {
            (Some(_), Some(_)) => Err(vec![
                "give either from (an input field) or value (a constant), not both".into(),
            ]),
            (None, None) => Err(vec![
                "give from (an input field) or value (a constant)".into()
            ]),
            (None, Some(c)) => {
                let mut problems = Vec::new();
                let extra: Vec<&str> = [
                    ("cast", src.cast.is_some()),
                    ("default", src.default.is_some()),
                    ("mask", src.mask.is_some()),
                ]
                .iter()
                .filter(|(_, set)| *set)
                .map(|(k, _)| *k)
                .collect();
                if !extra.is_empty() {
                    problems.push(format!(
                        "value is a constant and takes no {}",
                        extra.join(", ")
                    ));
                }
                match constant::to_value(self.output, out, c) {
                    Ok(v) if problems.is_empty() => return Ok(Source::Const(v)),
                    Ok(_) => {}
                    Err(why) => problems.push(not_fitting("value", c, name, out, &why)),
                }
                Err(problems)
            }
            (Some(path), None) => self
                .read(name, out, path, src)
                .map(|r| Source::Read(Box::new(r))),
        }
    }

    fn read(
        &self,
        name: &str,
        out: NodeRef<'a>,
        path: &str,
        src: &FieldSource,
    ) -> Result<Read, Vec<String>> {
        let mut problems = Vec::new();
        let default = match &src.default {
            Some(c) => match constant::to_value(self.output, out, c) {
                Ok(v) => Some(v),
                Err(why) => {
                    problems.push(not_fitting("default", c, name, out, &why));
                    None
                }
            },
            None => None,
        };
        let mask = match &src.mask {
            Some(m) => match Mask::parse(m) {
                Some(m) => Some(m),
                None => {
                    problems.push(format!(
                        "mask = {} is not a mask (sha256, redact or keep_last_N)",
                        quote(m)
                    ));
                    None
                }
            },
            None => None,
        };
        let (steps, leaf, parent_nullable) = match self.locate(path) {
            Ok(found) => found,
            Err(why) => {
                problems.push(why);
                return Err(problems);
            }
        };
        let input = self.input.node(leaf);
        let body = if src.cast.is_some() || src.mask.is_some() {
            self.cast_body(
                name,
                out,
                path,
                input,
                src.cast.as_deref(),
                mask,
                src.mask.is_some(),
            )
        } else {
            self.planner
                .plan_field(leaf, out.id())
                .map(Body::Conv)
                .map_err(|why| self.no_conversion(name, out, path, input, &why))
        };
        let body = match body {
            Ok(b) => Some(b),
            Err(why) => {
                problems.push(why);
                None
            }
        };
        let may_be_null = parent_nullable || nullable(input);
        let on_null = default.or_else(|| null_value(out));
        if may_be_null && on_null.is_none() && src.default.is_none() {
            problems.push(format!(
                "input field {path} may be null but output field {name} is not nullable: add a \
                 default"
            ));
        }
        match body {
            Some(body) if problems.is_empty() => Ok(Read {
                check_null: may_be_null && !is_clone(&body, src.default.is_some()),
                steps: steps.into(),
                body,
                on_null,
                path: path.into(),
            }),
            _ => Err(problems),
        }
    }

    /// A cast and/or mask: the input's non-null type converted to the output type `cast`
    /// names (or to the output's string type for a mask alone).
    #[allow(clippy::too_many_arguments)]
    fn cast_body(
        &self,
        name: &str,
        out: NodeRef<'a>,
        path: &str,
        input: NodeRef<'a>,
        cast: Option<&str>,
        mask: Option<Mask>,
        masked: bool,
    ) -> Result<Body, String> {
        let branches = non_null_branches(out);
        let (target, wrap) = match cast {
            Some(c) => match branches.iter().find(|(_, n)| Scalar::named(*n, c)) {
                Some((k, n)) => (*n, *k),
                None => return Err(self.bad_cast_name(name, out, c, &branches)),
            },
            None => match branches.as_slice() {
                [(k, n)] if Scalar::of(*n) == Some(Scalar::String) => (*n, *k),
                _ => {
                    return Err(format!(
                        "mask needs a string output field, and output field {name} is {}",
                        out.describe()
                    ))
                }
            },
        };
        let to = Scalar::of(target);
        if masked && to != Some(Scalar::String) {
            return Err(format!(
                "mask needs a string output field, and output field {name} is {}",
                out.describe()
            ));
        }
        let in_branches = non_null_branches(input);
        let base = match in_branches.as_slice() {
            [(_, n)] => *n,
            _ => {
                return Err(format!(
                    "input field {path} is {}: only a single type, or it and null, can be cast",
                    input.describe()
                ))
            }
        };
        let from = Scalar::of(base);
        if cast.is_none() && !matches!(from, Some(Scalar::String | Scalar::Uuid)) {
            return Err(format!(
                "mask needs a string input, and input field {path} is {}: add cast = \"string\"",
                input.describe()
            ));
        }
        let op = match (from, to) {
            (Some(f), Some(t)) => cast::plan(f, t, target, base),
            _ => None,
        };
        match op {
            Some(op) => Ok(Body::Cast { op, mask, wrap }),
            None => Err(format!(
                "cannot cast input field {path} ({}) to {}",
                input.describe(),
                target.describe()
            )),
        }
    }

    fn bad_cast_name(
        &self,
        name: &str,
        out: NodeRef<'a>,
        cast: &str,
        branches: &[(Option<u32>, NodeRef<'a>)],
    ) -> String {
        let is_enum_name = branches
            .iter()
            .any(|(_, n)| matches!(n.kind(), Kind::Enum(_)));
        if !CAST_NAMES.contains(&cast) && !is_enum_name {
            return format!(
                "cast = {} is not a type (one of {})",
                quote(cast),
                CAST_NAMES.join(", ")
            );
        }
        let names: Vec<String> = branches
            .iter()
            .filter_map(|(_, n)| Scalar::of(*n))
            .map(|s| format!("cast = \"{}\"", s.name()))
            .collect();
        if names.is_empty() {
            format!(
                "cast = {} does not name the type of output field {name} ({}), and no cast \
                 produces that type",
                quote(cast),
                out.describe()
            )
        } else {
            format!(
                "cast = {} does not name the type of output field {name} ({}): use {}",
                quote(cast),
                out.describe(),
                names.join(" or ")
            )
        }
    }

    /// Why an input field does not copy into an output field without a cast.
    fn no_conversion(
        &self,
        name: &str,
        out: NodeRef<'a>,
        path: &str,
        input: NodeRef<'a>,
        why: &str,
    ) -> String {
        let head = format!(
            "input field {path} ({}) does not convert to output field {name} ({}) without a \
             cast",
            input.describe(),
            out.describe()
        );
        let (ins, outs) = (non_null_branches(input), non_null_branches(out));
        match (ins.as_slice(), outs.as_slice()) {
            ([(_, i)], [(_, o)]) => match (Scalar::of(*i), Scalar::of(*o)) {
                (Some(f), Some(t)) if cast::plan(f, t, *o, *i).is_some() => {
                    format!("{head}: add cast = \"{}\"", t.name())
                }
                (Some(_), Some(_)) => head,
                _ => format!("{head}: {why}"),
            },
            _ => format!("{head}: {why}"),
        }
    }

    /// An output field with no explicit mapping.
    fn implicit(&self, j: usize) -> Result<Source, String> {
        let out_root = self.output.root();
        let in_root = self.input.root();
        let Some(field) = out_root.fields().get(j) else {
            return Ok(Source::Missing);
        };
        let name = field.name.as_str();
        let out = self.output.node(field.node);
        let default = field.default.clone();
        let lenient = self.opts.program_follows;
        let dropped = self.spec.drop.iter().any(|d| d == name);
        let fallback = |why: String| match (&default, lenient) {
            (Some(d), _) => Ok(Source::Const(d.clone())),
            (None, true) => Ok(Source::Missing),
            (None, false) => Err(why),
        };
        let Some((k, input)) = in_root.field_named(name).filter(|_| !dropped) else {
            let why = if dropped {
                format!(
                    "output field {name} ({}) has no mapping, input field {name} is dropped and \
                     the output field has no default",
                    out.describe()
                )
            } else {
                format!(
                    "output field {name} ({}) has no mapping, no input field of that name and \
                     no default",
                    out.describe()
                )
            };
            return fallback(why);
        };
        let conv = match self.planner.plan_field(input.id(), out.id()) {
            Ok(c) => c,
            Err(_) if lenient => return Ok(Source::Missing),
            Err(why) => {
                let detail = if Scalar::of(out).is_some() && Scalar::of(input).is_some() {
                    String::new()
                } else {
                    format!(" ({why})")
                };
                return Err(format!(
                    "output field {name} ({}) has no mapping and input field {name} is {}{detail}: \
                     map it with cast, or drop it",
                    out.describe(),
                    input.describe()
                ));
            }
        };
        let may_be_null = nullable(input);
        let on_null = null_value(out).or_else(|| default.clone());
        if may_be_null && on_null.is_none() {
            if lenient {
                return Ok(Source::Missing);
            }
            return Err(format!(
                "output field {name} ({}) has no mapping and input field {name} may be null: map \
                 it with a default, or drop it",
                out.describe()
            ));
        }
        let body = Body::Conv(conv);
        Ok(Source::Read(Box::new(Read {
            check_null: may_be_null && !is_clone(&body, false),
            steps: Box::new([k]),
            body,
            on_null,
            path: name.into(),
        })))
    }

    /// The field indexes of an input path, its type, and whether a record on the way may be
    /// null.
    fn locate(&self, path: &str) -> Result<(Vec<usize>, NodeId, bool), String> {
        let segments: Vec<&str> = path.split('.').collect();
        if segments.iter().any(|s| s.is_empty()) {
            return Err(format!(
                "from = {} is not an input field path like address.country",
                quote(path)
            ));
        }
        let mut node = self.input.root();
        let mut steps = Vec::with_capacity(segments.len());
        let mut nullable_parent = false;
        for (n, seg) in segments.iter().enumerate() {
            let here = segments[..n].join(".");
            if n > 0 {
                match record_of(node) {
                    Some((rec, via_null)) => {
                        nullable_parent |= via_null;
                        node = rec;
                    }
                    None => {
                        return Err(format!(
                            "input field {here} is {}, not a record, so it has no field {seg}",
                            node.describe()
                        ))
                    }
                }
            }
            match node.field_named(seg) {
                Some((k, f)) => {
                    steps.push(k);
                    node = f;
                }
                None => {
                    let names: Vec<&str> = node.fields().iter().map(|f| f.name.as_str()).collect();
                    let prefix = if n > 0 {
                        format!("{here}.")
                    } else {
                        String::new()
                    };
                    let hint = closest(seg, &names)
                        .map(|c| format!(" (did you mean {prefix}{c}?)"))
                        .unwrap_or_default();
                    return Err(format!("input field {prefix}{seg} does not exist{hint}"));
                }
            }
        }
        Ok((steps, node.id(), nullable_parent))
    }
}

/// Whether a body copies nulls as they are (so the field need not look for them first).
fn is_clone(body: &Body, has_default: bool) -> bool {
    matches!(body, Body::Conv(Conv::Clone)) && !has_default
}

fn not_fitting(what: &str, c: &Constant, name: &str, out: NodeRef<'_>, why: &str) -> String {
    let head = format!(
        "{what} {c} does not fit output field {name} ({})",
        out.describe()
    );
    if why.is_empty() {
        head
    } else {
        format!("{head}: {why}")
    }
}
