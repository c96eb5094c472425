//! Data prepared once per training (and shared by every trial of a sweep): the split, the
//! fitted preprocessing, the design matrices and the encoded target.
//!
//! Cross-validation keeps one matrix of all rows (for the model that is kept) and builds each
//! fold's matrices only while that fold is scored, so it holds two copies of the data at most,
//! not k + 1.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::labels::{Labels, encode_classes, numeric_target};
use super::split::{fold_assignment, split_rows, take};
use super::{TrainRequest, dataset_name, failed};
use crate::data::{LoadOptions, OpenedTable, open_table, register_dataset_with, with_overrides};
use crate::features::{FittedPipeline, Matrix};
use crate::jobs::{JobContext, JobError};
use crate::models::Task;
use crate::store::Store;

/// A holdout split, or the folds of cross-validation.
pub(super) enum PreparedData {
    Holdout(Box<Prepared>),
    /// The fold of every row, and all rows prepared (to fit the model that is kept). A fold's
    /// matrices are built by [`PreparedData::fold`] when it is scored.
    Folds {
        k: usize,
        assignment: Vec<usize>,
        full: Box<Prepared>,
    },
}

impl PreparedData {
    /// The split whose data and pipeline a kept model uses.
    pub(super) fn main(&self) -> &Prepared {
        match self {
            Self::Holdout(p) => p,
            Self::Folds { full, .. } => full,
        }
    }

    /// Fold `fold` of cross-validation: the pipeline fitted on the other folds only.
    pub(super) fn fold(&self, request: &TrainRequest, fold: usize) -> Result<Prepared, JobError> {
        let Self::Folds {
            assignment, full, ..
        } = self
        else {
            return Err(failed("not a cross-validated training"));
        };
        let frame = &full.opened.table.frame;
        let (train, test): (Vec<u32>, Vec<u32>) =
            (0..assignment.len() as u32).partition(|&r| assignment[r as usize] != fold);
        prepare_split(
            request,
            full.opened.clone(),
            full.version_id,
            full.task,
            full.features.clone(),
            &take(frame, &train)?,
            &take(frame, &test)?,
        )
    }
}

/// Data prepared once and shared by every trial of a sweep: the split, the fitted pipeline,
/// the matrices and the encoded target.
pub(super) struct Prepared {
    pub opened: OpenedTable,
    pub version_id: i64,
    pub task: Task,
    pub features: Vec<String>,
    pub pipeline: FittedPipeline,
    pub x_train: Matrix,
    pub x_test: Matrix,
    pub labels: Labels,
    pub classes: Vec<String>,
}

/// The feature columns: all but the target, `--drop` columns, and columns whose role is
/// `ignore` or `id`.
fn feature_columns(frame: &DataFrame, request: &TrainRequest) -> Result<Vec<String>, JobError> {
    for dropped in &request.drop {
        if frame.column(dropped).is_err() {
            return Err(failed(format!("--drop {dropped}: no such column")));
        }
    }
    let left_out_by_role = request.schema.left_out();
    let features: Vec<String> = frame
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .filter(|n| {
            *n != request.target && !request.drop.contains(n) && !left_out_by_role.contains(n)
        })
        .collect();
    if features.is_empty() {
        return Err(failed(
            "no feature columns are left after removing the target, --drop columns and ignored or id columns",
        ));
    }
    Ok(features)
}

pub(super) fn prepare(
    store: &Store,
    request: &TrainRequest,
    opened: OpenedTable,
    task: Task,
    ctx: &JobContext,
) -> Result<PreparedData, JobError> {
    let frame = &opened.table.frame;
    let features = feature_columns(frame, request)?;
    let version = register_dataset_with(
        store,
        &dataset_name(&request.data),
        &opened,
        &request.schema,
    )
    .map_err(JobError::failed)?;
    ctx.check_cancelled()?;
    if let Some(k) = request.cv {
        let frame = opened.table.frame.clone();
        let assignment = cross_validation_folds(request, task, &frame, k)?;
        ctx.progress(0.35, "fitting the preprocessing");
        // The kept model is fitted on every row; it is not scored on them.
        let no_rows = frame.slice(0, 0);
        let full = prepare_split(
            request, opened, version.id, task, features, &frame, &no_rows,
        )?;
        full.pipeline
            .check_memory(frame.height(), 2)
            .map_err(JobError::failed)?;
        return Ok(PreparedData::Folds {
            k,
            assignment,
            full: Box::new(full),
        });
    }
    let (train_frame, test_frame) = match &request.test {
        Some(test) => {
            let test = open_table(test, &LoadOptions::default(), &|_, _| !ctx.is_cancelled())?;
            let test = with_overrides(&test, &request.schema).map_err(JobError::failed)?;
            (frame.clone(), test.table.frame.clone())
        }
        None => {
            let classes = match task {
                Task::Classification => {
                    let (y, names) = encode_classes(frame, &request.target, 2)?;
                    // As scikit-learn's stratified split: every class needs a row on each side.
                    for (c, name) in names.iter().enumerate() {
                        if y.iter().filter(|&&v| v == c).count() < 2 {
                            return Err(failed(format!(
                                "class '{name}' of '{}' has only 1 row; a stratified split needs at least 2 (drop it or add rows)",
                                request.target
                            )));
                        }
                    }
                    Some(y)
                }
                Task::Regression => None,
            };
            let (train, test) = split_rows(
                frame.height(),
                request.test_size,
                classes.as_deref(),
                request.seed,
            );
            (take(frame, &train)?, take(frame, &test)?)
        }
    };
    ctx.progress(0.35, "fitting the preprocessing");
    Ok(PreparedData::Holdout(Box::new(prepare_split(
        request,
        opened,
        version.id,
        task,
        features,
        &train_frame,
        &test_frame,
    )?)))
}

/// Fits the pipeline on `train_frame` and encodes both sides.
pub(super) fn prepare_split(
    request: &TrainRequest,
    opened: OpenedTable,
    version_id: i64,
    task: Task,
    features: Vec<String>,
    train_frame: &DataFrame,
    test_frame: &DataFrame,
) -> Result<Prepared, JobError> {
    let pipeline =
        FittedPipeline::fit(train_frame, &features, &request.steps).map_err(JobError::failed)?;
    // Refuse before allocating what would not fit.
    pipeline
        .check_memory(train_frame.height() + test_frame.height(), 1)
        .map_err(JobError::failed)?;
    let x_train = pipeline.transform(train_frame).map_err(JobError::failed)?;
    let x_test = pipeline.transform(test_frame).map_err(JobError::failed)?;
    let (labels, classes) = match task {
        Task::Classification => {
            let (train, classes) = encode_classes(train_frame, &request.target, 2)?;
            let (test_raw, test_classes) = if test_frame.height() == 0 {
                (Vec::new(), Vec::new())
            } else {
                encode_classes(test_frame, &request.target, 1)?
            };
            let lookup: BTreeMap<&str, usize> = classes
                .iter()
                .enumerate()
                .map(|(i, c)| (c.as_str(), i))
                .collect();
            let test = test_raw
                .iter()
                .map(|&i| {
                    lookup
                        .get(test_classes[i].as_str())
                        .copied()
                        .ok_or_else(|| {
                            failed(format!(
                                "the test rows hold class '{}' that training never saw",
                                test_classes[i]
                            ))
                        })
                })
                .collect::<Result<_, _>>()?;
            (Labels::Classes { train, test }, classes)
        }
        Task::Regression => (
            Labels::Values {
                train: numeric_target(train_frame, &request.target)?,
                test: numeric_target(test_frame, &request.target)?,
            },
            Vec::new(),
        ),
    };
    Ok(Prepared {
        opened,
        version_id,
        task,
        features,
        pipeline,
        x_train,
        x_test,
        labels,
        classes,
    })
}

/// The fold of every row for stratified k-fold cross-validation, after checking k.
fn cross_validation_folds(
    request: &TrainRequest,
    task: Task,
    frame: &DataFrame,
    k: usize,
) -> Result<Vec<usize>, JobError> {
    let n = frame.height();
    if k < 2 {
        return Err(failed(format!(
            "--cv {k}: cross-validation needs at least 2 folds"
        )));
    }
    if n < k {
        return Err(failed(format!(
            "--cv {k} needs at least {k} rows, and the data has {n}"
        )));
    }
    let classes = match task {
        Task::Classification => {
            let (y, names) = encode_classes(frame, &request.target, 2)?;
            for (c, name) in names.iter().enumerate() {
                let members = y.iter().filter(|&&v| v == c).count();
                if members < k {
                    return Err(failed(format!(
                        "class '{name}' has {members} rows, fewer than the {k} folds of stratified cross-validation"
                    )));
                }
            }
            Some(y)
        }
        Task::Regression => None,
    };
    Ok(fold_assignment(n, k, classes.as_deref(), request.seed))
}
