//! Fuzzes what the kernel hands the IPVS client: a netlink datagram split into
//! messages, each genl payload parsed into attributes and then into the model
//! (service, destination, daemon, timeouts, info). Nothing may panic, and a
//! parsed message must re-encode to bytes that parse to the same message.

#![no_main]

use ipvs::wire::{daemon_from_nlas, dest_from_nlas, service_from_nlas};
use ipvs::{AddressFamily, IpvsMessage};
use libfuzzer_sys::fuzz_target;

fn exercise(payload: &[u8]) {
    let Ok(message) = IpvsMessage::parse(payload) else {
        return;
    };
    let mut family = AddressFamily::Inet;
    if let Some(nlas) = message.service()
        && let Ok(service) = service_from_nlas(nlas)
    {
        family = service.key.family();
    }
    if let Some(nlas) = message.dest() {
        let _ = dest_from_nlas(nlas, family);
    }
    if let Some(nlas) = message.daemon() {
        let _ = daemon_from_nlas(nlas);
    }
    let _ = message.timeouts();
    let _ = message.info();
    if let Ok(bytes) = message.emit() {
        let again = IpvsMessage::parse(&bytes).expect("our own encoding parses");
        assert_eq!(again, message, "parse(emit(m)) == m");
    }
}

fuzz_target!(|data: &[u8]| {
    // The bytes as one genl payload (what the seeds are) ...
    exercise(data);
    // ... and as a whole netlink datagram.
    if let Ok(messages) = ipvs::socket::split_messages(data) {
        for message in messages {
            exercise(message.payload);
        }
    }
});
