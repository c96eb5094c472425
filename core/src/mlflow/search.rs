//! MLflow's search endpoints: filter strings in MLflow's syntax through Kiln's run filter
//! language (which is a superset of it), `order_by` lists, and offset page tokens.
//!
//! MLflow names a few things differently (`attributes.run_name`, `tag.`, back-quoted keys such
//! as `` tags.`mlflow.runName` ``, upper-case statuses, times in epoch milliseconds); they are
//! translated here, then the filter is parsed and evaluated by `tracking::filter`, the same
//! code as `kiln runs --filter` and the Experiments workspace.

use std::cmp::Ordering;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use super::args::Args;
use super::error::{MlflowError, MlflowResult};
use super::wire;
use crate::data::filter::{Op, Token, tokenize};
use crate::store::{Run, RunDetail, RunQuery, RunStatus, Store};
use crate::tracking::filter::{Key, RunFilter, key_value, parse_key, parse_run_filter};

/// The most results one page may hold.
const MAX_PAGE: usize = 50_000;

/// An MLflow key in Kiln's terms.
fn translate_key(name: &str) -> String {
    let (prefix, rest) = name.split_once('.').unwrap_or(("", name));
    let prefix = prefix.to_ascii_lowercase();
    let attribute = match prefix.as_str() {
        "attributes" | "attribute" | "attr" | "run" => rest,
        "" => name,
        "tag" | "tags" => return format!("tags.{rest}"),
        "param" | "params" => return format!("params.{rest}"),
        "metric" | "metrics" => return format!("metrics.{rest}"),
        _ => return name.to_owned(),
    };
    match attribute.to_ascii_lowercase().as_str() {
        "run_name" | "name" => "name".into(),
        "run_id" | "run_uuid" => "run_id".into(),
        "user_id" => "tags.mlflow.user".into(),
        "created" | "creation_time" | "start_time" => "start_time".into(),
        "status" => "status".into(),
        _ => attribute.to_owned(),
    }
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn op_text(op: Op) -> &'static str {
    match op {
        Op::Eq => "=",
        Op::Ne => "!=",
        Op::Lt => "<",
        Op::Le => "<=",
        Op::Gt => ">",
        Op::Ge => ">=",
    }
}

const KEYWORDS: &[&str] = &["and", "or", "not", "in", "like", "ilike"];

/// Rewrites an MLflow filter into Kiln's run filter syntax.
fn translate(filter: &str) -> MlflowResult<String> {
    let tokens = tokenize(filter).map_err(|e| MlflowError::invalid(bad_filter(filter, &e)))?;
    let mut out: Vec<String> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let (at, token) = &tokens[i];
        match token {
            Token::Ident(name) => {
                let mut name = name.clone();
                // `tags.` followed at once by a back-quoted key is one key.
                if name.ends_with('.')
                    && let Some((next_at, Token::Ident(rest))) = tokens.get(i + 1)
                    && *next_at == at + name.chars().count()
                {
                    name.push_str(rest);
                    i += 1;
                }
                if KEYWORDS.contains(&name.to_ascii_lowercase().as_str()) {
                    out.push(name);
                } else {
                    out.push(format!("`{}`", translate_key(&name).replace('`', "")));
                }
            }
            Token::Str(text) => out.push(quote(text)),
            Token::Num(n) => out.push(format!("{n}")),
            Token::Op(op) => out.push(op_text(*op).into()),
            Token::LParen => out.push("(".into()),
            Token::RParen => out.push(")".into()),
            Token::Comma => out.push(",".into()),
        }
        i += 1;
    }
    Ok(out.join(" "))
}

fn bad_filter(filter: &str, error: &impl std::fmt::Display) -> String {
    format!("Invalid filter '{filter}': {error}")
}

/// Statuses are upper-case in MLflow, lower-case in Kiln.
fn lower_statuses(filter: RunFilter) -> RunFilter {
    let status = |k: &Key| matches!(k, Key::Attribute(a) if a == "status");
    match filter {
        RunFilter::And(a, b) => {
            RunFilter::And(Box::new(lower_statuses(*a)), Box::new(lower_statuses(*b)))
        }
        RunFilter::Or(a, b) => {
            RunFilter::Or(Box::new(lower_statuses(*a)), Box::new(lower_statuses(*b)))
        }
        RunFilter::Not(a) => RunFilter::Not(Box::new(lower_statuses(*a))),
        RunFilter::Compare(k, op, v) if status(&k) => RunFilter::Compare(k, op, v.to_lowercase()),
        RunFilter::In(k, vs, n) if status(&k) => {
            RunFilter::In(k, vs.iter().map(|v| v.to_lowercase()).collect(), n)
        }
        other => other,
    }
}

/// `tags.K != 'v'` also holds where the tag is absent (how MLflow's registry search reads
/// its own `` tag.`mlflow.prompt.is_prompt` != 'true' `` clause).
fn absent_tags_differ(filter: RunFilter) -> RunFilter {
    match filter {
        RunFilter::And(a, b) => RunFilter::And(
            Box::new(absent_tags_differ(*a)),
            Box::new(absent_tags_differ(*b)),
        ),
        RunFilter::Or(a, b) => RunFilter::Or(
            Box::new(absent_tags_differ(*a)),
            Box::new(absent_tags_differ(*b)),
        ),
        RunFilter::Not(a) => RunFilter::Not(Box::new(absent_tags_differ(*a))),
        RunFilter::Compare(k @ Key::Tag(_), Op::Ne, v) => {
            RunFilter::Not(Box::new(RunFilter::Compare(k, Op::Eq, v)))
        }
        other => other,
    }
}

/// Parses an MLflow filter string (empty: everything matches).
pub fn parse_filter(filter: &str) -> MlflowResult<Option<RunFilter>> {
    if filter.trim().is_empty() {
        return Ok(None);
    }
    let translated = translate(filter)?;
    let parsed =
        parse_run_filter(&translated).map_err(|e| MlflowError::invalid(bad_filter(filter, &e)))?;
    Ok(Some(lower_statuses(parsed)))
}

/// One `order_by` entry: the key, and whether it sorts descending.
fn parse_order(entry: &str) -> MlflowResult<(Key, bool)> {
    let mut words = entry.split_whitespace();
    let name = words
        .next()
        .ok_or_else(|| MlflowError::invalid("an order_by entry is empty"))?;
    let descending = match words.next().map(str::to_ascii_uppercase).as_deref() {
        None | Some("ASC") => false,
        Some("DESC") => true,
        Some(other) => {
            return Err(MlflowError::invalid(format!(
                "Invalid order_by '{entry}': '{other}' is neither ASC nor DESC"
            )));
        }
    };
    let key = parse_key(&translate_key(name.trim_matches('`')).replace('`', ""))
        .map_err(|e| MlflowError::invalid(format!("Invalid order_by '{entry}': {e}")))?;
    Ok((key, descending))
}

fn compare_values(a: Option<&str>, b: Option<&str>) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => match (x.parse::<f64>(), y.parse::<f64>()) {
            (Ok(p), Ok(q)) => p.total_cmp(&q),
            _ => x.cmp(y),
        },
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Filters, sorts and pages `views` (what filters and sorts see) and returns the indices
/// of one page and the next page's token.
fn select(
    views: &[RunDetail],
    filter: Option<&RunFilter>,
    order_by: &[String],
    default_order: &[(Key, bool)],
    args: &Args,
    default_page: usize,
) -> MlflowResult<(Vec<usize>, Option<String>)> {
    let mut order = order_by
        .iter()
        .map(|e| parse_order(e))
        .collect::<MlflowResult<Vec<_>>>()?;
    order.extend(default_order.iter().cloned());
    let mut rows: Vec<usize> = (0..views.len())
        .filter(|&i| filter.is_none_or(|f| f.matches(&views[i])))
        .collect();
    let values: Vec<Vec<Option<String>>> = views
        .iter()
        .map(|v| order.iter().map(|(k, _)| key_value(v, k)).collect())
        .collect();
    rows.sort_by(|&a, &b| {
        for (i, (_, descending)) in order.iter().enumerate() {
            let ord = compare_values(values[a][i].as_deref(), values[b][i].as_deref());
            let ord = if *descending && values[a][i].is_some() && values[b][i].is_some() {
                ord.reverse()
            } else {
                ord
            };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        views[a].run.id.cmp(&views[b].run.id)
    });
    let page = match args.opt_i64("max_results")? {
        None => default_page,
        Some(n) if n >= 1 => (n as usize).min(MAX_PAGE),
        Some(n) => {
            return Err(MlflowError::invalid(format!(
                "Invalid value {n} for parameter 'max_results': it must be at least 1"
            )));
        }
    };
    let offset = match args.opt_str("page_token")?.filter(|t| !t.is_empty()) {
        None => 0,
        Some(token) => decode_token(&token)
            .ok_or_else(|| MlflowError::invalid(format!("Invalid page token '{token}'")))?,
    };
    let end = offset.saturating_add(page).min(rows.len());
    let next = (end < rows.len()).then(|| encode_token(end));
    Ok((
        rows.get(offset..end)
            .map(<[usize]>::to_vec)
            .unwrap_or_default(),
        next,
    ))
}

/// A page token as MLflow writes it: base64 of `{"offset": N}`.
fn encode_token(offset: usize) -> String {
    BASE64.encode(json!({ "offset": offset }).to_string())
}

/// Reads MLflow's tokens, and the plain offsets earlier Kiln versions handed out.
fn decode_token(token: &str) -> Option<usize> {
    if let Ok(offset) = token.parse::<usize>() {
        return Some(offset);
    }
    let bytes = BASE64.decode(token.trim()).ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    usize::try_from(value.get("offset")?.as_u64()?).ok()
}

fn with_token(mut out: Value, next: Option<String>) -> Value {
    if let (Some(token), Some(map)) = (next, out.as_object_mut()) {
        map.insert("next_page_token".into(), json!(token));
    }
    out
}

/// What filters see of a run: times in epoch milliseconds, as MLflow compares them.
fn run_view(detail: &RunDetail) -> RunDetail {
    let mut view = detail.clone();
    view.run.start_time = crate::store::rfc3339_to_ms(&detail.run.start_time).to_string();
    view
}

/// `POST runs/search`.
pub fn search_runs(store: &Store, args: &Args) -> MlflowResult<Value> {
    let view_type = args
        .opt_str("run_view_type")?
        .unwrap_or_else(|| "ACTIVE_ONLY".into());
    let (active, deleted) = match view_type.to_ascii_uppercase().as_str() {
        "ACTIVE_ONLY" => (true, false),
        "DELETED_ONLY" => (false, true),
        "ALL" => (true, true),
        other => {
            return Err(MlflowError::invalid(format!(
                "Invalid run_view_type '{other}': use ACTIVE_ONLY, DELETED_ONLY or ALL"
            )));
        }
    };
    let filter = parse_filter(&args.opt_str("filter")?.unwrap_or_default())?;
    let mut details = Vec::new();
    for experiment in args.str_list("experiment_ids")? {
        let id = wire::experiment_id(store, &experiment)?;
        let name = store.experiment_info(id)?.experiment.name;
        details.extend(
            store
                .run_details(&RunQuery {
                    experiment: Some(name),
                    include_deleted: deleted,
                })?
                .into_iter()
                .filter(|d| {
                    (d.run.deleted_at.is_some() && deleted)
                        || (d.run.deleted_at.is_none() && active)
                }),
        );
    }
    let views: Vec<RunDetail> = details.iter().map(run_view).collect();
    let default_order = [(Key::Attribute("start_time".into()), true)];
    let (page, next) = select(
        &views,
        filter.as_ref(),
        &args.str_list("order_by")?,
        &default_order,
        args,
        1000,
    )?;
    let runs = page
        .into_iter()
        .map(|i| wire::run(store, &details[i]))
        .collect::<MlflowResult<Vec<_>>>()?;
    Ok(page_answer("runs", runs, next))
}

/// A thing that is not a run, as the run filter sees it: a name, tags and a creation time.
pub fn named_view(
    id: &str,
    name: &str,
    tags: &std::collections::BTreeMap<String, String>,
    created_ms: i64,
    deleted: bool,
) -> RunDetail {
    RunDetail {
        run: Run {
            id: id.to_owned(),
            name: name.to_owned(),
            status: RunStatus::Finished,
            start_time: created_ms.to_string(),
            deleted_at: deleted.then(String::new),
            ..Run::default()
        },
        tags: tags.clone(),
        ..RunDetail::default()
    }
}

/// An `order_by` entry for experiments, registered models or model versions, in the keys
/// of their [`named_view`]: their times become `start_time`, a version's number the
/// `version_number` param that `search_versions` puts in its views.
fn named_order_entry(entry: &str) -> String {
    let (key, direction) = entry
        .trim()
        .split_once(char::is_whitespace)
        .unwrap_or((entry.trim(), ""));
    let key = match key.trim_matches('`').to_ascii_lowercase().as_str() {
        "last_update_time" | "last_updated_timestamp" | "creation_time" | "creation_timestamp" => {
            "start_time"
        }
        "version_number" | "version" => "params.version_number",
        _ => key,
    };
    format!("{key} {direction}").trim_end().to_owned()
}

/// The answer of a search endpoint: `{key: items}` (MLflow leaves an empty list out) and
/// the next page's token when there is one.
pub fn page_answer(key: &str, items: Vec<Value>, next: Option<String>) -> Value {
    let out = if items.is_empty() {
        json!({})
    } else {
        json!({ key: items })
    };
    with_token(out, next)
}

/// Filters, sorts and pages things that are not runs (experiments, registered models).
/// The request's `filter`, `order_by`, `max_results` and `page_token` apply.
pub fn select_named(
    views: &[RunDetail],
    args: &Args,
    default_order: &[(Key, bool)],
    default_page: usize,
) -> MlflowResult<(Vec<usize>, Option<String>)> {
    let filter =
        parse_filter(&args.opt_str("filter")?.unwrap_or_default())?.map(absent_tags_differ);
    let order_by: Vec<String> = args
        .str_list("order_by")?
        .iter()
        .map(|e| named_order_entry(e))
        .collect();
    select(
        views,
        filter.as_ref(),
        &order_by,
        default_order,
        args,
        default_page,
    )
}

/// `POST experiments/search`.
pub fn search_experiments(store: &Store, args: &Args) -> MlflowResult<Value> {
    let view_type = args
        .opt_str("view_type")?
        .unwrap_or_else(|| "ACTIVE_ONLY".into())
        .to_ascii_uppercase();
    store.ensure_experiment(wire::DEFAULT_EXPERIMENT)?;
    let infos: Vec<_> = store
        .experiment_infos()?
        .into_iter()
        .filter(|e| match view_type.as_str() {
            "DELETED_ONLY" => e.deleted_at.is_some(),
            "ALL" => true,
            _ => e.deleted_at.is_none(),
        })
        .collect();
    let views: Vec<RunDetail> = infos
        .iter()
        .map(|e| {
            let created = crate::store::rfc3339_to_ms(&e.experiment.created_at);
            named_view(
                &format!("{:020}", e.experiment.id),
                &e.experiment.name,
                &e.tags,
                created,
                false,
            )
        })
        .collect();
    let order = [(Key::Attribute("start_time".into()), true)];
    let (page, next) = select_named(&views, args, &order, 1000)?;
    let experiments: Vec<Value> = page
        .into_iter()
        .map(|i| wire::experiment(&infos[i]))
        .collect();
    Ok(page_answer("experiments", experiments, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mlflow_keys_become_kiln_keys() {
        let t = translate("tags.`mlflow.runName` = 'x' and attributes.status = 'FINISHED'");
        assert_eq!(
            t.ok().as_deref(),
            Some("`tags.mlflow.runName` = 'x' and `status` = 'FINISHED'")
        );
        assert_eq!(translate_key("attributes.run_name"), "name");
        assert_eq!(translate_key("tag.team"), "tags.team");
    }

    #[test]
    fn page_tokens_are_mlflows_and_read_back() {
        assert_eq!(encode_token(2), "eyJvZmZzZXQiOjJ9");
        assert_eq!(decode_token("eyJvZmZzZXQiOiAyfQ=="), Some(2));
        assert_eq!(decode_token(&encode_token(1234)), Some(1234));
        assert_eq!(decode_token("7"), Some(7));
        assert_eq!(decode_token("not a token"), None);
    }

    #[test]
    fn registry_order_keys_become_view_keys() {
        assert_eq!(
            named_order_entry("version_number DESC"),
            "params.version_number DESC"
        );
        assert_eq!(named_order_entry("creation_timestamp"), "start_time");
        assert_eq!(named_order_entry("name ASC"), "name ASC");
    }

    #[test]
    fn a_bad_comparator_is_a_400_naming_the_filter() {
        let error = parse_filter("metrics.loss <<< 1").err();
        assert!(error.is_some_and(|e| e.status == 400 && e.message.contains("metrics.loss <<< 1")));
    }

    #[test]
    fn statuses_compare_in_any_case() {
        let filter = parse_filter("attributes.status = 'FINISHED'")
            .ok()
            .flatten();
        assert_eq!(
            filter,
            Some(RunFilter::Compare(
                Key::Attribute("status".into()),
                Op::Eq,
                "finished".into()
            ))
        );
    }

    #[test]
    fn an_absent_tag_differs_from_any_value() {
        let view = named_view("1", "iris", &Default::default(), 0, false);
        let filter = parse_filter("name LIKE 'ir%' AND tag.`mlflow.prompt.is_prompt` != 'true'")
            .ok()
            .flatten()
            .map(absent_tags_differ);
        assert!(filter.is_some_and(|f| f.matches(&view)));
    }
}
