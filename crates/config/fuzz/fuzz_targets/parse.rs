//! Any bytes as a keepalived.conf: the whole pipeline (reader, keyword tables,
//! validation) must never panic and must terminate.
#![no_main]

use config::{FakeSystem, LoadOptions, ReaderOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let options = LoadOptions {
        reader: ReaderOptions {
            config_id: Some("fuzz".to_string()),
            // Expansions of a thousand lines reach every grammar path; a million (the
            // daemon's bound) only makes one input take minutes. At 20,000, a definition
            // that grows its own line took 15-80 s an input (keepalived 2.2.7 takes
            // 2 minutes on it) and stopped the run at libFuzzer's timeout.
            generated_line_limit: Some(2_000),
            ..ReaderOptions::default()
        },
        ..LoadOptions::default()
    };
    let system = FakeSystem {
        interfaces: vec!["lo".into(), "eth0".into()],
        hostname: "fuzz".into(),
        ..FakeSystem::default()
    };
    let loaded = config::load_str("fuzz.conf", &text, &options, &system);
    let _ = loaded.exit_code();
    let _ = loaded.render();
});
