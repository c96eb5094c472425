//! `kiln models` as a script uses it: register a run, gate and promote it with a reason,
//! name it by stage or alias everywhere, and check the audit trail.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;
use common::{error, json, kiln, set_policy, texts};

fn penguins() -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../assets/penguins.csv")
        .display()
        .to_string()
}

#[test]
fn a_run_is_registered_gated_promoted_and_predicts_by_its_stage() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let data = penguins();
    let run = json(&kiln(
        home,
        &["train", "--data", &data, "--target", "species", "--json"],
    ));
    let run_id = run["run_id"].as_str().unwrap();
    let registered = json(&kiln(
        home,
        &["models", "register", run_id, "--name", "penguins", "--json"],
    ));
    assert_eq!(
        registered,
        serde_json::json!({"name": "penguins", "version": 1})
    );

    let set = set_policy(
        home,
        dir.path(),
        "penguins",
        "[gates]\naccuracy = \">= 0.999\"\n",
    );
    assert!(set.status.success());

    let blocked = kiln(
        home,
        &[
            "models",
            "promote",
            "penguins",
            "1",
            "--to",
            "production",
            "--reason",
            "ship",
            "--json",
        ],
    );
    assert!(!blocked.status.success(), "a failing gate exits non-zero");
    let shown: serde_json::Value = serde_json::from_slice(&blocked.stdout).unwrap();
    assert_eq!(shown["gates"][0]["passed"], false);
    assert!(error(&blocked).contains("gate failed: accuracy >= 0.999"));

    let forced = json(&kiln(
        home,
        &[
            "models",
            "promote",
            "penguins",
            "1",
            "--to",
            "production",
            "--reason",
            "accepted by the team",
            "--override",
            "--json",
        ],
    ));
    assert_eq!(forced["stage"], "production");

    let predicted = kiln(home, &["predict", "penguins@production", "--data", &data]);
    assert!(
        predicted.status.success(),
        "{}",
        String::from_utf8_lossy(&predicted.stderr)
    );
    assert!(String::from_utf8_lossy(&predicted.stdout).starts_with("prediction\n"));

    let alias = kiln(
        home,
        &[
            "models", "alias", "penguins", "1", "champion", "--reason", "best",
        ],
    );
    assert!(alias.status.success());
    let show = json(&kiln(home, &["models", "show", "penguins", "--json"]));
    let v1 = &show["versions"][0];
    assert_eq!(v1["stage"], "production");
    assert_eq!(v1["aliases"], serde_json::json!(["champion"]));
    assert_eq!(v1["run_id"], run_id);
    assert!(v1["metrics"]["accuracy"].as_f64().is_some());
    assert!(
        kiln(home, &["predict", "penguins:1", "--data", &data])
            .status
            .success()
    );
    assert!(
        kiln(home, &["predict", "penguins@champion", "--data", &data])
            .status
            .success()
    );

    let history = json(&kiln(home, &["models", "history", "penguins", "--json"]));
    let actions = texts(&history["entries"], "action");
    assert_eq!(
        actions,
        [
            "register", "policy", "gates", "gates", "override", "stage", "alias"
        ]
    );
    let verified = json(&kiln(home, &["models", "verify-audit", "--json"]));
    assert_eq!(verified["intact"], true);
}

#[test]
fn registry_mistakes_get_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    assert!(
        error(&kiln(
            home,
            &["predict", "nope@production", "--data", "x.csv"]
        ))
        .starts_with("error:")
    );
    let run = json(&kiln(
        home,
        &[
            "train",
            "--data",
            &penguins(),
            "--target",
            "species",
            "--json",
        ],
    ));
    let run_id = run["run_id"].as_str().unwrap();
    kiln(home, &["models", "register", run_id, "--name", "p"]);
    let no_reason = error(&kiln(
        home,
        &["models", "promote", "p", "1", "--to", "staging"],
    ));
    assert!(no_reason.contains("needs a reason"), "{no_reason}");
    let bad_stage = error(&kiln(
        home,
        &[
            "models", "promote", "p", "1", "--to", "prod", "--reason", "x",
        ],
    ));
    assert!(bad_stage.contains("stage"), "{bad_stage}");
    let e = error(&set_policy(
        home,
        dir.path(),
        "p",
        "[gates]\naccuracy = 0.9\n",
    ));
    assert!(e.contains("line 2"), "{e}");
}

#[test]
fn concurrent_promotions_from_two_processes_leave_one_winner_and_an_unbroken_chain() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let data = penguins();
    for _ in 0..2 {
        let run = json(&kiln(
            home,
            &["train", "--data", &data, "--target", "species", "--json"],
        ));
        let run_id = run["run_id"].as_str().unwrap().to_owned();
        assert!(
            kiln(home, &["models", "register", &run_id, "--name", "race"])
                .status
                .success()
        );
    }
    let racers: Vec<std::process::Child> = ["1", "2"]
        .iter()
        .map(|version| {
            std::process::Command::new(common::kiln_bin())
                .arg("--home")
                .arg(home)
                .args([
                    "models",
                    "promote",
                    "race",
                    version,
                    "--to",
                    "production",
                    "--reason",
                    "race",
                ])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut racer in racers {
        assert!(racer.wait().unwrap().success());
    }
    let show = json(&kiln(home, &["models", "show", "race", "--json"]));
    let in_production = show["versions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["stage"] == "production")
        .count();
    assert_eq!(in_production, 1);
    assert_eq!(
        json(&kiln(home, &["models", "verify-audit", "--json"]))["intact"],
        true
    );
}

#[test]
fn a_version_worse_than_production_on_the_same_data_is_stopped_by_the_gate() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let data = penguins();
    let train = |extra: &[&str]| {
        let mut args = vec!["train", "--data", &data, "--target", "species", "--json"];
        args.extend_from_slice(extra);
        let run = json(&kiln(home, &args));
        let run_id = run["run_id"].as_str().unwrap().to_owned();
        json(&kiln(
            home,
            &["models", "register", &run_id, "--name", "pg", "--json"],
        ))["version"]
            .as_i64()
            .unwrap()
    };
    let strong = train(&[]);
    // Only the year: a model that can barely tell species apart.
    let weak = train(&[
        "--drop",
        "island",
        "--drop",
        "bill_length_mm",
        "--drop",
        "bill_depth_mm",
        "--drop",
        "flipper_length_mm",
        "--drop",
        "body_mass_g",
        "--drop",
        "sex",
    ]);
    assert!(
        set_policy(home, dir.path(), "pg", "[gates]\nnot_worse_than = { stage = \"production\", margin = 0.01, metric = \"accuracy\" }\n")
        .status
        .success()
    );
    let first = json(&kiln(
        home,
        &[
            "models",
            "promote",
            "pg",
            &strong.to_string(),
            "--to",
            "production",
            "--reason",
            "first",
            "--json",
        ],
    ));
    assert_eq!(first["gates"][0]["passed"], true, "{first}");
    let out = kiln(
        home,
        &[
            "models",
            "promote",
            "pg",
            &weak.to_string(),
            "--to",
            "production",
            "--reason",
            "try",
            "--json",
        ],
    );
    assert!(!out.status.success());
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["gates"][0]["passed"], false, "{shown}");
    assert!(
        shown["gates"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("accuracy")
    );
}

#[test]
fn a_model_card_has_every_section_and_exports_as_html() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let run = json(&kiln(
        home,
        &[
            "train",
            "--data",
            &penguins(),
            "--target",
            "species",
            "--json",
        ],
    ));
    let run_id = run["run_id"].as_str().unwrap();
    kiln(
        home,
        &[
            "models",
            "register",
            run_id,
            "--name",
            "pg",
            "--description",
            "Sorting <penguins>",
        ],
    );
    let md = kiln(home, &["models", "card", "pg:1"]);
    assert!(
        md.status.success(),
        "{}",
        String::from_utf8_lossy(&md.stderr)
    );
    let md = String::from_utf8(md.stdout).unwrap();
    for heading in [
        "## Model details",
        "## Intended use",
        "## Factors",
        "## Metrics",
        "## Evaluation data",
        "## Training data",
        "## Quantitative analyses",
        "## Ethical considerations",
        "## Caveats and recommendations",
    ] {
        assert!(md.contains(heading), "{heading} missing:\n{md}");
    }
    assert!(md.contains(run_id) && md.contains("accuracy"));
    let out = dir.path().join("card.html");
    let html = kiln(
        home,
        &[
            "models",
            "card",
            "pg:1",
            "--format",
            "html",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(html.status.success());
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.contains("Sorting &lt;penguins&gt;"));
}

#[test]
fn the_fairness_gate_checks_demographic_parity_on_a_sensitive_column() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let data = penguins();
    let run = json(&kiln(
        home,
        &["train", "--data", &data, "--target", "species", "--json"],
    ));
    let run_id = run["run_id"].as_str().unwrap();
    kiln(home, &["models", "register", run_id, "--name", "pg"]);
    // Species differ by island, so a good model's selection rate of Gentoo differs a lot.
    assert!(
        set_policy(home, dir.path(), "pg", "[gates]\nfairness = { sensitive = \"island\", pos_label = \"Gentoo\", demographic_parity_difference = \"<= 0.1\" }\n")
        .status
        .success()
    );
    let out = kiln(
        home,
        &[
            "models", "promote", "pg", "1", "--to", "staging", "--reason", "try", "--json",
        ],
    );
    assert!(!out.status.success());
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let gate = &shown["gates"][0];
    assert_eq!(gate["passed"], false, "{shown}");
    assert!(
        gate["detail"]
            .as_str()
            .unwrap()
            .contains("demographic_parity_difference = ")
    );
}
