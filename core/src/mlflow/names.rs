//! Names for runs started without one, in MLflow's `adjective-animal-NNN` form.

const ADJECTIVES: &[&str] = &[
    "amber", "bold", "brisk", "calm", "clever", "crisp", "dapper", "eager", "fleet", "gentle",
    "glad", "honest", "keen", "lively", "lucid", "merry", "nimble", "placid", "quiet", "rapid",
    "sharp", "sleek", "steady", "sunny", "tidy", "upbeat", "vivid", "warm", "wise", "zesty",
];

const ANIMALS: &[&str] = &[
    "ant", "bass", "bear", "carp", "cod", "crane", "deer", "eel", "finch", "fox", "gull", "hare",
    "heron", "ibis", "jay", "koi", "lark", "lynx", "mole", "newt", "owl", "panda", "quail", "ram",
    "seal", "shrew", "toad", "vole", "wren", "yak",
];

/// A fresh random run name.
pub fn run_name() -> String {
    let bytes = *uuid::Uuid::new_v4().as_bytes();
    let pick = |list: &[&'static str], b: u8| list[usize::from(b) % list.len()];
    let number = u16::from_le_bytes([bytes[2], bytes[3]]) % 1000;
    format!(
        "{}-{}-{number}",
        pick(ADJECTIVES, bytes[0]),
        pick(ANIMALS, bytes[1])
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_made_up_name_has_three_dashed_parts() {
        let name = super::run_name();
        assert_eq!(name.split('-').count(), 3, "{name}");
    }
}
