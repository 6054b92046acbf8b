//! What a flow does to one decoded event: transform, then routes. No Kafka and no registry,
//! so `weft flows test`, `weft flows dry-run` and the running flow share it.

use std::sync::Arc;

use weft_core::{ErrorCode, StageError};
use weft_schema::codec::Value;
use weft_transform::program::Outcome;
use weft_transform::vrl_value::{record_fields_to_vrl, record_from_vrl, record_to_vrl, to_vrl};

use crate::flow::{Flow, Route, Transform};
use crate::logic::key_of;

/// Where one output goes, with its key and headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub topic: Arc<str>,
    /// The route that sent it (`default` for the default route).
    pub route: String,
    /// `None`: the input record's key.
    pub key: Option<Option<Vec<u8>>>,
    /// Headers the route sets.
    pub headers: Vec<(String, String)>,
}

/// What became of an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Dropped on purpose: by the program (`abort`) or by the default route (`drop = true`).
    Filtered { by: &'static str },
    /// `event` (of the flow's event schema) goes to every output. `reencode` is false when
    /// the flow has no transform: the input bytes go out as they are.
    Routed {
        event: Value,
        reencode: bool,
        outputs: Vec<Output>,
    },
}

impl Flow {
    /// Transforms and routes one event (`input`: a value of the flow's input schema).
    /// `metadata` is the `%kafka` object, needed only when [`Flow::uses_metadata`].
    pub fn decide(
        &self,
        input: Value,
        metadata: &vrl::value::Value,
    ) -> Result<Decision, StageError> {
        let (event, mut vrl_event, reencode) = match &self.transform {
            Transform::None => (input, None, self.output.is_some()),
            Transform::Direct(m) => (m.apply(&input).map_err(|e| mapping_error(&e))?, None, true),
            Transform::Program { mapping, program } => {
                let out = &self.event_schema().codec;
                let mut ev = record_to_vrl(&self.input.codec, &input);
                if let Some(m) = mapping {
                    if let vrl::value::Value::Object(map) = &mut ev {
                        for (i, f) in m.explicit().iter().enumerate() {
                            let v = m.eval_field(i, &input).map_err(|e| mapping_error(&e))?;
                            map.insert(f.name.as_str().into(), to_vrl(out, f.node, &v));
                        }
                        for d in m.dropped() {
                            map.remove(d.as_str());
                        }
                    }
                }
                match program.run(ev, metadata.clone()) {
                    Ok(Outcome::Dropped) => return Ok(Decision::Filtered { by: "program" }),
                    Ok(Outcome::Event(v)) => {
                        let value = record_from_vrl(out, &v).map_err(|e| {
                            StageError::new(
                                ErrorCode::SchemaMismatch,
                                format!(
                                    "the program's output does not fit {}: {e}",
                                    self.event_schema().name
                                ),
                            )
                        })?;
                        (value, Some(v), true)
                    }
                    Err(e) => {
                        return Err(StageError::new(ErrorCode::TransformFailed, e.to_string()))
                    }
                }
            }
        };
        let mut outputs = Vec::new();
        let mut matched = false;
        for route in &self.routes {
            let hit = match &route.condition {
                None => true,
                Some(c) => match c.matches_value(&event) {
                    Some(hit) => hit,
                    None => {
                        if vrl_event.is_none() {
                            let codec = &self.event_schema().codec;
                            vrl_event = Some(match &self.condition_fields {
                                Some(fields) => record_fields_to_vrl(codec, &event, fields),
                                None => record_to_vrl(codec, &event),
                            });
                        }
                        let ev = vrl_event.as_ref().unwrap_or(&vrl::value::Value::Null);
                        c.matches(ev, metadata).map_err(|e| {
                            StageError::new(
                                ErrorCode::TransformFailed,
                                format!("route {}: {e}", route.name),
                            )
                        })?
                    }
                },
            };
            if hit {
                matched = true;
                self.send(route, &event, &mut outputs)?;
                if !route.continue_ {
                    break;
                }
            }
        }
        if !matched {
            if self.default.to.is_empty() {
                return Ok(Decision::Filtered { by: "default" });
            }
            self.send(&self.default, &event, &mut outputs)?;
        }
        Ok(Decision::Routed {
            event,
            reencode,
            outputs,
        })
    }

    fn send(&self, route: &Route, event: &Value, out: &mut Vec<Output>) -> Result<(), StageError> {
        let codec = &self.event_schema().codec;
        let key = match &route.key {
            None => None,
            Some(path) => Some(key_of(codec, path, event).map_err(|m| {
                StageError::new(
                    ErrorCode::TransformFailed,
                    format!("route {}: {m}", route.name),
                )
            })?),
        };
        let mut headers = Vec::with_capacity(route.headers.len());
        for (name, t) in &route.headers {
            let v = t.render(codec, event).map_err(|m| {
                StageError::new(
                    ErrorCode::TransformFailed,
                    format!("route {} header {name}: {m}", route.name),
                )
            })?;
            headers.push((name.clone(), v));
        }
        for topic in &route.to {
            // One output per topic, even when two matching routes name the same one.
            if out.iter().any(|o| &o.topic == topic) {
                continue;
            }
            out.push(Output {
                topic: topic.clone(),
                route: route.name.clone(),
                key: key.clone(),
                headers: headers.clone(),
            });
        }
        Ok(())
    }
}

fn mapping_error(e: &weft_transform::mapping::MappingError) -> StageError {
    StageError::new(ErrorCode::TransformFailed, e.to_string()).at_field(e.field.clone())
}
