//! The status bar: every background job with its progress and a cancel button, and the store.

use kiln_core::jobs::{JobState, JobStatus};

use super::command::Command;
use super::mlflow_server::MlflowStatus;
use super::theme::Tokens;

/// Draws the jobs, the MLflow toggle and where the store lives.
pub fn status_bar_ui(
    ui: &mut egui::Ui,
    jobs: &[JobStatus],
    store_label: Result<String, &str>,
    mlflow: &MlflowStatus,
    tokens: &Tokens,
    commands: &mut Vec<Command>,
) {
    // Quick jobs that simply succeeded are not worth a glance; failures and long work are.
    let jobs: Vec<&JobStatus> = jobs
        .iter()
        .filter(|j| j.state != JobState::Finished || j.elapsed >= std::time::Duration::from_secs(1))
        .collect();
    ui.horizontal(|ui| {
        // First, so it stays in one place whatever the jobs and the store path are.
        mlflow_ui(ui, mlflow, tokens, commands);
        ui.separator();
        if jobs.is_empty() {
            ui.label(egui::RichText::new("Idle").color(tokens.muted));
        }
        for job in jobs {
            job_ui(ui, job, tokens, commands);
            ui.separator();
        }
        ui.with_layout(
            egui::Layout::right_to_left(egui::Align::Center),
            |ui| match &store_label {
                Ok(path) => {
                    ui.label(egui::RichText::new(format!("Store: {path}")).color(tokens.muted));
                }
                Err(error) => {
                    ui.label(
                        egui::RichText::new(format!("Store unavailable: {error}"))
                            .color(tokens.bad),
                    );
                }
            },
        );
    });
}

/// The toggle, then the URL clients use while it is on (or why it could not start).
fn mlflow_ui(
    ui: &mut egui::Ui,
    mlflow: &MlflowStatus,
    tokens: &Tokens,
    commands: &mut Vec<Command>,
) {
    let mut on = mlflow.url.is_some();
    let label = format!("Accept MLflow clients on port {}", mlflow.port);
    if ui.checkbox(&mut on, label).changed() {
        commands.push(Command::AcceptMlflowClients(on));
    }
    if let Some(url) = &mlflow.url {
        ui.label(egui::RichText::new(format!("MLFLOW_TRACKING_URI={url}")).color(tokens.good))
            .on_hover_text("Python scripts with this variable set log their runs into this store");
    } else if let Some(error) = &mlflow.error {
        ui.label(egui::RichText::new(format!("MLflow server: {error}")).color(tokens.bad));
    }
}

fn job_ui(ui: &mut egui::Ui, job: &JobStatus, tokens: &Tokens, commands: &mut Vec<Command>) {
    ui.label(&job.name);
    match &job.state {
        JobState::Running => {
            let text = if job.cancel_requested {
                "cancelling…".to_owned()
            } else {
                job.message.clone()
            };
            let bar = match job.fraction {
                Some(fraction) => egui::ProgressBar::new(fraction).show_percentage(),
                None => egui::ProgressBar::new(0.0).animate(true),
            };
            ui.add(bar.desired_width(160.0).text(text));
            let cancel = ui.add_enabled(!job.cancel_requested, egui::Button::new("Cancel"));
            if cancel
                .on_hover_text(format!("Stop \"{}\"", job.name))
                .clicked()
            {
                commands.push(Command::CancelJob(job.id));
            }
        }
        JobState::Finished => {
            ui.label(egui::RichText::new("done").color(tokens.good));
        }
        JobState::Cancelled => {
            ui.label(egui::RichText::new("cancelled").color(tokens.warn));
        }
        JobState::Failed(message) => {
            ui.label(egui::RichText::new(format!("failed: {message}")).color(tokens.bad));
        }
    }
}
