//! Prints the operations that build the IPVS table keepalived 2.2.7
//! programs at start-up for a configuration file, without touching the kernel:
//!   cargo run -p lvs --example lvs_table -- keepalived.conf
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: lvs_table KEEPALIVED.CONF");
        return ExitCode::from(2);
    };
    let loaded = config::load_file(
        Path::new(&path),
        &config::LoadOptions::default(),
        &config::HostSystem,
    );
    eprint!("{}", loaded.render());
    let lvs = lvs::Lvs::new(loaded.config.lvs, Some(loaded.sources));
    let mapped = lvs.desired();
    for w in &mapped.warnings {
        eprintln!("warning: {w}");
    }
    let empty = ipvs::reconcile::Table::default();
    let none = ipvs::reconcile::Owned::default();
    for op in ipvs::reconcile::plan(&mapped.desired.table, &empty, &none) {
        println!("{op}");
    }
    ExitCode::SUCCESS
}
