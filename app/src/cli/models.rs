//! `kiln models ...`: the model registry from the command line.

use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use kiln_core::registry;
use kiln_core::store::{Stage, Store};
use serde_json::json;

use super::args::ModelsCmd;

fn print_json(value: &serde_json::Value) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Runs one `kiln models` subcommand.
pub fn run_models(store: &Store, command: ModelsCmd) -> Result<ExitCode> {
    match command {
        ModelsCmd::Register {
            run_id,
            name,
            description,
            json,
        } => {
            let version = registry::register_run(
                store,
                &run_id,
                &name,
                description.as_deref().unwrap_or(""),
            )?;
            if json {
                print_json(&json!({ "name": version.name, "version": version.version }))?;
            } else {
                println!("registered {} version {}", version.name, version.version);
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelsCmd::Promote {
            name,
            version,
            to,
            reason,
            override_gates,
            json,
        } => {
            let stage = Stage::parse(&to)?;
            let outcome = registry::promote(
                store,
                &name,
                i64::from(version),
                stage,
                reason.as_deref().unwrap_or(""),
                override_gates,
                true,
            )?;
            if json {
                print_json(&json!({
                    "name": outcome.name,
                    "version": outcome.version,
                    "stage": outcome.stage,
                    "gates": outcome.gates,
                }))?;
            } else {
                for gate in &outcome.gates {
                    let mark = if gate.passed { "pass" } else { "FAIL" };
                    println!("  {mark}  {}  ({})", gate.gate, gate.detail);
                }
            }
            if !outcome.promoted {
                bail!(
                    "{name} version {version} was not promoted to {stage}: gate failed: {} (pass --override with a reason to promote anyway)",
                    outcome.failed_gates().join(", ")
                );
            }
            if !json {
                let how = if outcome.overridden {
                    " (failing gates overridden)"
                } else {
                    ""
                };
                println!("{name} version {version} is now in {stage}{how}");
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelsCmd::Rollback {
            name,
            stage,
            reason,
            json,
        } => {
            let stage = Stage::parse(&stage)?;
            let outcome = registry::rollback(store, &name, stage, reason.as_deref().unwrap_or(""))?;
            if json {
                print_json(&serde_json::to_value(&outcome)?)?;
            } else {
                println!(
                    "{name} version {} is back in {stage}{}",
                    outcome.version,
                    if outcome.overridden {
                        " (failing gates overridden for the rollback)"
                    } else {
                        ""
                    }
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelsCmd::Alias {
            name,
            version,
            alias,
            reason,
            json,
        } => {
            store.set_alias(
                &name,
                i64::from(version),
                &alias,
                reason.as_deref().unwrap_or(""),
            )?;
            if json {
                print_json(&json!({ "name": name, "version": version, "alias": alias }))?;
            } else {
                println!("{name}@{alias} -> version {version}");
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelsCmd::List { json } => {
            let names = store.registered_models()?;
            if json {
                let mut models = Vec::new();
                for name in &names {
                    let versions = store.model_versions(name)?;
                    models.push(json!({ "name": name, "versions": versions.len() }));
                }
                print_json(&json!({ "models": models }))?;
            } else {
                for name in names {
                    println!("{name}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelsCmd::Show { name, json } => {
            let versions = store.model_versions(&name)?;
            if json {
                let versions: Vec<serde_json::Value> = versions
                    .iter()
                    .map(|v| {
                        json!({
                            "version": v.version,
                            "stage": v.stage,
                            "aliases": v.aliases,
                            "run_id": v.run_id,
                            "metrics": v.metrics,
                            "created_at": v.created_at,
                            "created_by": v.created_by,
                            "dataset_version_id": v.dataset_version_id,
                            "dataset_fingerprint": v.dataset_fingerprint,
                            "description": v.description,
                        })
                    })
                    .collect();
                print_json(&json!({ "name": name, "versions": versions }))?;
            } else {
                println!("{name}");
                for v in &versions {
                    println!(
                        "  version {:<3} {:<10} {:<20} run {}  by {} at {}",
                        v.version,
                        v.stage,
                        v.aliases.join(","),
                        v.run_id.as_deref().unwrap_or("-"),
                        v.created_by,
                        v.created_at
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelsCmd::History { name, json } => {
            if let Some(name) = &name {
                store.model_versions(name)?;
            }
            let entries = store.audit_log(name.as_deref())?;
            if json {
                print_json(&registry::audit_json(&entries))?;
            } else {
                for e in &entries {
                    let version = e.version.map(|v| format!(" v{v}")).unwrap_or_default();
                    println!(
                        "{:>4}  {}  {:<10} {}{} {:<8} {} -> {}  \"{}\"",
                        e.seq,
                        e.at,
                        e.user,
                        e.model,
                        version,
                        e.action,
                        e.before,
                        e.after,
                        e.reason
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelsCmd::VerifyAudit { json } => match registry::verify_audit(store)? {
            Ok(entries) => {
                if json {
                    print_json(&json!({ "intact": true, "entries": entries }))?;
                } else {
                    println!("audit trail intact: {entries} entries");
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(broken) => {
                if json {
                    print_json(
                        &json!({ "intact": false, "first_bad_entry": broken.seq, "reason": broken.reason }),
                    )?;
                }
                Err(anyhow!(
                    "the audit trail is broken at entry {}: {}",
                    broken.seq,
                    broken.reason
                ))
            }
        },
        ModelsCmd::Approve {
            name,
            version,
            to,
            reason,
        } => {
            let stage = Stage::parse(&to)?;
            registry::approve(
                store,
                &name,
                i64::from(version),
                stage,
                reason.as_deref().unwrap_or(""),
            )?;
            println!(
                "{} approved {name} version {version} for {stage}",
                kiln_core::store::os_user()
            );
            Ok(ExitCode::SUCCESS)
        }
        ModelsCmd::Archive {
            name,
            version,
            reason,
        } => {
            registry::promote(
                store,
                &name,
                i64::from(version),
                Stage::Archived,
                reason.as_deref().unwrap_or(""),
                false,
                true,
            )?;
            println!("{name} version {version} is archived");
            Ok(ExitCode::SUCCESS)
        }
        ModelsCmd::Policy { name, file, reason } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            registry::set_policy(store, &name, &text, &reason)
                .map_err(|e| anyhow!("{}: {e}", file.display()))?;
            println!("gate policy of {name} set from {}", file.display());
            Ok(ExitCode::SUCCESS)
        }
        ModelsCmd::Fairness {
            model_ref,
            data,
            sensitive,
            truth,
            pos_label,
            json,
        } => super::fairness::run_model_fairness(
            store,
            &model_ref,
            &data,
            truth.as_deref(),
            &sensitive,
            pos_label.as_deref(),
            json,
        ),
        ModelsCmd::ImportOnnx {
            file,
            name,
            columns_from,
            drop,
            target,
            json,
        } => super::onnx::run_import(store, file, name, columns_from, drop, target, json),
        ModelsCmd::Card { model, format, out } => {
            let version = registry::resolve(store, &model)?.ok_or_else(|| {
                anyhow!(
                    "{model}: a model card is for a registered version (NAME:VERSION or NAME@STAGE)"
                )
            })?;
            let card = registry::model_card(store, &version)?;
            let text = match format.as_str() {
                "md" | "markdown" => card.to_markdown(),
                "html" => card.to_html(),
                other => bail!("--format {other}: use md or html"),
            };
            match out {
                Some(path) => std::fs::write(&path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => print!("{text}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        ModelsCmd::ExportOnnx { model_ref, out } => {
            super::onnx::run_export(store, &model_ref, &out)
        }
    }
}
