//! `weft run <service>` and `weft up`: the shared runtime around the services.

use std::time::Duration;

use anyhow::{bail, Context};
use prometheus::Registry;
use weft_kafka::KafkaMetrics;
use weft_runtime::{admin, health, shutdown, telemetry, Readiness, Services};

use crate::config::WeftConfig;

/// The services this build of Weft has. `weft up` runs all of those that are configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Service {
    /// The Confluent-compatible schema registry (`[registry]`).
    Registry,
    /// The event API and webhooks (`[ingest]`).
    Ingest,
    /// Copies records between topics (`[[pipes]]`).
    Pipe,
    /// The flows of `flows/` that transform (field mappings, programs) and route.
    Transform,
    /// The flows of `flows/` that only route (no transform).
    Route,
    /// The retry tiers (`[retry]`): hands records back to their stage when due.
    DeadLetter,
    /// Scheduled replays of dead letters (`[[replay.schedules]]`).
    Replay,
}

pub async fn run(cfg: WeftConfig, services: &[Service]) -> anyhow::Result<()> {
    telemetry::init(&cfg.log);
    let registry = Registry::new();
    let metrics = KafkaMetrics::register(&registry).context("registering metrics")?;
    let readiness = Readiness::new();
    let running = Services::default();
    let token = running.token();
    shutdown::install_signal_handlers(token.clone()).context("installing signal handlers")?;

    if cfg.admin.enabled {
        let (_addr, task) = admin::serve(
            &cfg.admin.listen,
            registry.clone(),
            readiness.clone(),
            token.clone(),
        )
        .await
        .context("starting the admin server")?;
        running.spawn("admin", async move {
            task.await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())
        });
    }
    let kafka = cfg.kafka.clone();
    let (r, t) = (readiness.clone(), token.clone());
    running.spawn("kafka-health", async move {
        health::watch_kafka(kafka, r, Duration::from_secs(2), t).await;
        Ok::<(), String>(())
    });

    // The consumer loops get most of the drain budget; the rest is for commits and flushes.
    let drain = cfg.shutdown.drain_timeout;
    let loop_drain = drain.mul_f64(0.6);
    let instance = cfg.instance_id();
    for service in services {
        match service {
            Service::Registry => {
                if !cfg.registry.enabled {
                    if services.len() == 1 {
                        bail!("the registry is disabled: set registry.enabled = true");
                    }
                    continue;
                }
                readiness.declare("registry", "loading the schema log");
                let (kafka, rc, m, t, r) = (
                    cfg.kafka.clone(),
                    cfg.registry.clone(),
                    metrics.clone(),
                    token.clone(),
                    readiness.clone(),
                );
                let rm = weft_registry::RegistryMetrics::register(&registry)
                    .context("registering the registry metrics")?;
                running.spawn("registry", async move {
                    let started = weft_registry::start(&rc, &kafka, Some(m), rm, t).await;
                    let result = match started {
                        Ok(running) => {
                            r.set_ready("registry");
                            running.serve().await
                        }
                        Err(e) => Err(e),
                    };
                    if let Err(e) = &result {
                        r.set_not_ready("registry", format!("stopped: {e}"));
                    }
                    result
                });
            }
            Service::Ingest => {
                if !cfg.ingest.is_configured() {
                    if services.len() == 1 {
                        bail!("ingest has nothing to do: add [ingest.topics.<name>] or [[ingest.webhooks]] to weft.toml");
                    }
                    continue;
                }
                let im = weft_ingest::IngestMetrics::register(&registry)
                    .context("registering the ingest metrics")?;
                if cfg.ingest.serves_http() {
                    readiness.declare("ingest", "loading idempotency keys");
                    let (kafka, ic, sr, m, t, r) = (
                        cfg.kafka.clone(),
                        cfg.ingest.clone(),
                        cfg.schema_registry.clone(),
                        metrics.clone(),
                        token.clone(),
                        readiness.clone(),
                    );
                    running.spawn("ingest", async move {
                        let result =
                            match weft_ingest::start(&ic, &kafka, &sr, Some(m), im, t).await {
                                Ok(running) => {
                                    r.set_ready("ingest");
                                    running.serve().await
                                }
                                Err(e) => Err(e),
                            };
                        if let Err(e) = &result {
                            r.set_not_ready("ingest", format!("stopped: {e}"));
                        }
                        result
                    });
                }
                if !cfg.ingest.validate.routes.is_empty() {
                    let mut vc = cfg.ingest.validate.clone();
                    vc.dead_letters = cfg.dead_letter_options();
                    let (kafka, vc, sr, m, t, r) = (
                        cfg.kafka.clone(),
                        vc,
                        cfg.schema_registry.clone(),
                        metrics.clone(),
                        token.clone(),
                        readiness.clone(),
                    );
                    let instance = instance.clone();
                    r.set_ready("ingest-validate");
                    running.spawn("ingest-validate", async move {
                        let result = weft_ingest::validate::run(
                            &kafka,
                            &vc,
                            &sr,
                            &instance,
                            loop_drain,
                            Some(m),
                            t,
                        )
                        .await;
                        if let Err(e) = &result {
                            r.set_not_ready("ingest-validate", format!("stopped: {e}"));
                        }
                        result
                    });
                }
            }
            // Flows are started below, once for both services.
            Service::Transform | Service::Route => {}
            Service::Replay => {
                if cfg.replay.schedules.is_empty() {
                    if services.len() == 1 {
                        bail!(
                            "no scheduled replays: add a [[replay.schedules]] section to weft.toml"
                        );
                    }
                    continue;
                }
                let schemas = std::sync::Arc::new(
                    weft_schema::SchemaCache::from_config(&cfg.schema_registry)
                        .context("schema_registry")?,
                );
                let (kafka, rc, t, r) = (
                    cfg.kafka.clone(),
                    cfg.replay.clone(),
                    token.clone(),
                    readiness.clone(),
                );
                let host = instance.clone();
                r.set_ready("replay");
                running.spawn("replay", async move {
                    let result =
                        weft_dead_letter::replay::schedule::run(&kafka, schemas, &rc, &host, t)
                            .await;
                    if let Err(e) = &result {
                        r.set_not_ready("replay", format!("stopped: {e:#}"));
                    }
                    result.map_err(|e| format!("{e:#}"))
                });
            }
            Service::DeadLetter => {
                if !cfg.retry.enabled {
                    if services.len() == 1 {
                        bail!("retry tiers are off: set retry.enabled = true in weft.toml");
                    }
                    continue;
                }
                let (kafka, rc, t, r) = (
                    cfg.kafka.clone(),
                    cfg.retry.clone(),
                    token.clone(),
                    readiness.clone(),
                );
                r.set_ready("dead-letter");
                running.spawn("dead-letter", async move {
                    let result = weft_dead_letter::retry::run(&kafka, &rc, t).await;
                    if let Err(e) = &result {
                        r.set_not_ready("dead-letter", format!("stopped: {e:#}"));
                    }
                    result.map_err(|e| format!("{e:#}"))
                });
            }
            Service::Pipe => {
                if cfg.pipes.is_empty() {
                    if services.len() == 1 {
                        bail!("no pipes are configured: add a [[pipes]] section to weft.toml");
                    }
                    continue;
                }
                let mut pipes = cfg.pipes.clone();
                for p in &mut pipes {
                    p.dead_letters = cfg.dead_letter_options();
                }
                let (kafka, pipes, m, t, r) = (
                    cfg.kafka.clone(),
                    pipes,
                    metrics.clone(),
                    token.clone(),
                    readiness.clone(),
                );
                let instance = instance.clone();
                r.set_ready("pipe");
                running.spawn("pipe", async move {
                    let result =
                        weft_pipe::run(&kafka, &pipes, &instance, loop_drain, Some(m), t).await;
                    if let Err(e) = &result {
                        r.set_not_ready("pipe", format!("stopped: {e}"));
                    }
                    result
                });
            }
        }
    }
    if services.contains(&Service::Transform) || services.contains(&Service::Route) {
        let selection = match (
            services.contains(&Service::Transform),
            services.contains(&Service::Route),
        ) {
            (true, true) => weft_route::Selection::All,
            (true, false) => weft_route::Selection::Transforming,
            _ => weft_route::Selection::RoutingOnly,
        };
        let only = services.len() == 1;
        if !cfg.flows.is_configured() {
            if only {
                bail!(
                    "no flows: {} is not a folder (flows.dir in weft.toml)",
                    cfg.flows.dir.display()
                );
            }
        } else {
            let flows = crate::flows_cmd::load_flows(&cfg.flows, None)?;
            let selected: Vec<_> = flows
                .into_iter()
                .filter(|f| selection.includes(f))
                .collect();
            if selected.is_empty() && only {
                bail!("no flows of that kind in {}", cfg.flows.dir.display());
            }
            let fm = weft_route::FlowMetrics::register(&registry)
                .context("registering the flow metrics")?;
            for flow in selected {
                let flow = std::sync::Arc::new(flow);
                let ready = format!("flow:{}", flow.name);
                readiness.declare(&ready, "starting");
                let (kafka, sr, m, fm, t, r) = (
                    cfg.kafka.clone(),
                    cfg.schema_registry.clone(),
                    metrics.clone(),
                    fm.clone(),
                    token.clone(),
                    readiness.clone(),
                );
                let instance = instance.clone();
                let registry_wait = cfg.flows.registry_wait;
                let tiers = cfg.dead_letter_options();
                running.spawn(&ready.clone(), async move {
                    r.set_ready(&ready);
                    let name = flow.name.clone();
                    let result = weft_route::run_flow(
                        &kafka,
                        flow,
                        &sr,
                        registry_wait,
                        &instance,
                        loop_drain,
                        tiers,
                        Some(m),
                        Some(fm),
                        t,
                    )
                    .await;
                    // A flow that stops on a fatal error stays stopped and says so on /ready;
                    // the other flows and services go on.
                    if let Err(e) = result {
                        tracing::error!(flow = %name, error = %e, "Flow stopped on a fatal error");
                        r.set_not_ready(&ready, format!("stopped: {e}"));
                    }
                    Ok::<(), String>(())
                });
            }
        }
    }
    tracing::info!(services = ?services, "Weft is running");
    running.wait(drain).await.map_err(anyhow::Error::msg)
}
