//! The valid inputs the campaign starts from: the shipped scenarios and small traces of each
//! format (`tests/fuzz-seeds/`), compiled in so that a campaign reads no file.

use super::Target;

macro_rules! seed_file {
    ($path:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/", $path))
    };
}

/// Every seed input of `target`, each accepted by its parser (`tests/fuzz.rs` checks).
pub fn seeds(target: Target) -> &'static [&'static str] {
    match target {
        Target::Scenario => &[
            seed_file!("scenarios/pu_smoke.yaml"),
            seed_file!("scenarios/tiers_smoke.yaml"),
            seed_file!("scenarios/pam_small.yaml"),
            seed_file!("scenarios/pam_devices.yaml"),
            seed_file!("scenarios/pam_four_tiers.yaml"),
            seed_file!("tests/fuzz-seeds/tiers_overrides.yaml"),
            seed_file!("tests/fuzz-seeds/system_xy.yaml"),
        ],
        Target::VidurCsv => &[seed_file!("tests/fuzz-seeds/splitwise.csv")],
        Target::TokensCsv => &[seed_file!("tests/fuzz-seeds/token_counts.csv")],
        Target::AzureCsv => {
            &[seed_file!("tests/fuzz-seeds/azure_datetime.csv"), seed_file!("tests/fuzz-seeds/azure_seconds.csv")]
        }
        Target::Jsonl => {
            &[seed_file!("tests/fuzz-seeds/sharegpt.jsonl"), seed_file!("tests/fuzz-seeds/sessions.jsonl")]
        }
    }
}
