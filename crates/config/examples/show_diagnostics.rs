//! Debug aid: `cargo run -p config --example show_diagnostics -- FILE...` prints our
//! diagnostics as `Line N level root-block message` and the exit code, to set beside
//! `keepalived -t` (the host as the conformance oracle sees it: lo, eth0..eth3).
use config::{LoadOptions, System};

struct Host;
impl System for Host {
    fn interface_exists(&self, name: &str) -> bool {
        ["lo", "eth0", "eth1", "eth2", "eth3"].contains(&name)
    }
    fn user(&self, name: &str) -> Option<(u32, u32)> {
        config::HostSystem.user(name)
    }
    fn group(&self, name: &str) -> Option<u32> {
        config::HostSystem.group(name)
    }
    fn hostname(&self) -> String {
        config::HostSystem.hostname()
    }
}

fn main() {
    for arg in std::env::args().skip(1) {
        let loaded = config::load_file(std::path::Path::new(&arg), &LoadOptions::default(), &Host);
        for d in &loaded.diags.items {
            let line = d.span.map(|s| s.line).unwrap_or(0);
            println!("Line {line} {:?} {:?} {}", d.level, d.root_block, d.message);
        }
        println!("rc={}", loaded.exit_code());
    }
}
