//! keepalived's names for virtual and real servers in log lines, FIFO lines and
//! dumps (`check_data.c` `format_vs`/`format_rs`, `inet_sockaddrtotrio`), and
//! its per-checker success / failure messages (`check_tcp.c`, `check_http.c`, ...).

use config::model::lvs::{CheckerKind, Protocol, RealServer, VirtualServer, VsAddress};

/// keepalived's protocol word in `[addr]:proto:port`.
fn protocol_word(vs: &VirtualServer) -> &'static str {
    match vs.protocol {
        Some(Protocol::Tcp) => "tcp",
        Some(Protocol::Udp) => "udp",
        Some(Protocol::Sctp) => "sctp",
        None => "none",
    }
}

/// FMT_VS: `[192.0.2.1]:tcp:80`, `FWM 7`, or `[group]:0` (a group's own
/// address is unset in keepalived, hence port 0).
pub fn vs(vs: &VirtualServer) -> String {
    match &vs.address {
        VsAddress::Ip { addr, port } => format!("[{addr}]:{}:{port}", protocol_word(vs)),
        VsAddress::Fwmark { mark } => format!("FWM {mark}"),
        VsAddress::Group(name) => format!("[{name}]:0"),
    }
}

/// FMT_RS: the real server's address with the virtual server's protocol.
pub fn rs(vs: &VirtualServer, rs: &RealServer) -> String {
    address(vs, rs.addr, rs.port)
}

/// `[addr]:proto:port` for any address of `vs` (sorry server included).
pub fn address(vs: &VirtualServer, addr: std::net::IpAddr, port: u16) -> String {
    format!("[{addr}]:{}:{port}", protocol_word(vs))
}

/// keepalived's log line when a checker comes up (`rs` is FMT_CHK).
pub fn checker_up(kind: &CheckerKind, rs: &str, vs: &str) -> String {
    match kind {
        CheckerKind::Tcp => format!("TCP connection to {rs} success."),
        CheckerKind::Udp { .. } => format!("UDP connection to {rs} success."),
        CheckerKind::Ping => format!("ICMP connection to {rs} success."),
        CheckerKind::Http { .. } => format!("Remote Web server {rs} succeed on service."),
        CheckerKind::Smtp { .. } => format!("Remote SMTP server {rs} succeed on service."),
        CheckerKind::Dns { .. } => format!("DNS_CHECK ({rs}) succeed on service."),
        CheckerKind::Misc { script, .. } => format!(
            "Misc check for [{rs} VS {vs}] by [{}] succeeded.",
            script.args.first().map_or("", String::as_str)
        ),
        CheckerKind::File { track_file, .. } => {
            format!("({rs}): tracked file {track_file} leaving FAULT state")
        }
        CheckerKind::Bfd { name } => format!("BFD_CHECK {name} for {rs} up."),
    }
}

/// keepalived's log line when a checker goes down after `retries` retries.
pub fn checker_down(kind: &CheckerKind, rs: &str, vs: &str, retries: u32) -> String {
    let name = match kind {
        CheckerKind::Tcp => "TCP_CHECK",
        CheckerKind::Udp { .. } => "UDP_CHECK",
        CheckerKind::Ping => "PING_CHECK",
        CheckerKind::Http { .. } => "HTTP_CHECK",
        CheckerKind::Smtp { .. } => "SMTP_CHECK",
        CheckerKind::Dns { .. } => "DNS_CHECK",
        CheckerKind::Misc { script, .. } => {
            let tail = match retries {
                0 => String::new(),
                1 => " after 1 retry".to_string(),
                n => format!(" after {n} retries"),
            };
            return format!(
                "Misc check for [{rs} VS {vs}] by [{}] failed{tail}.",
                script.args.first().map_or("", String::as_str)
            );
        }
        CheckerKind::File { track_file, .. } => {
            return format!("({rs}): tracked file {track_file} now FAULT state");
        }
        CheckerKind::Bfd { name } => return format!("BFD_CHECK {name} for {rs} down."),
    };
    if retries > 0 {
        format!("{name} on service {rs} failed after {retries} retries.")
    } else {
        format!("{name} on service {rs} failed.")
    }
}

/// The message keepalived's checkers give smtp_alert on a transition.
pub fn alert_message(kind: &CheckerKind, up: bool) -> &'static str {
    match (kind, up) {
        (CheckerKind::Tcp, true) => "=> TCP CHECK succeed on service <=",
        (CheckerKind::Tcp, false) => "=> TCP CHECK failed on service <=",
        (CheckerKind::Udp { .. }, true) => "=> UDP CHECK succeed on service <=",
        (CheckerKind::Udp { .. }, false) => "=> UDP CHECK failed on service <=",
        (CheckerKind::Ping, true) => "=> ICMP CHECK succeed on service <=",
        (CheckerKind::Ping, false) => "=> ICMP CHECK failed on service <=",
        (CheckerKind::Dns { .. }, true) => "=> DNS_CHECK: succeed on service <=",
        (CheckerKind::Dns { .. }, false) => "=> DNS_CHECK: failed on service <=",
        (CheckerKind::Http { .. }, false) => "=> CHECK failed on service : HTTP request failed <=",
        (_, true) => "=> CHECK succeed on service <=",
        (_, false) => "=> CHECK failed on service <=",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use config::span::Span;

    fn tcp_vs() -> VirtualServer {
        let mut vs = VirtualServer::new(
            VsAddress::Ip {
                addr: "192.0.2.1".parse().expect("ip"),
                port: 80,
            },
            Span::line(config::span::FileId(0), 1),
        );
        vs.protocol = Some(Protocol::Tcp);
        vs
    }

    #[test]
    fn names_like_keepalived() {
        let vs = tcp_vs();
        let rs = RealServer::new(
            "192.0.2.10".parse().expect("ip"),
            8080,
            None,
            Span::line(config::span::FileId(0), 1),
        );
        assert_eq!(self::vs(&vs), "[192.0.2.1]:tcp:80");
        assert_eq!(self::rs(&vs, &rs), "[192.0.2.10]:tcp:8080");
        let v6 = address(&vs, "2001:db8::1".parse().expect("ip"), 443);
        assert_eq!(v6, "[2001:db8::1]:tcp:443");
        assert_eq!(
            checker_up(&CheckerKind::Tcp, "[192.0.2.10]:tcp:80", ""),
            "TCP connection to [192.0.2.10]:tcp:80 success."
        );
        assert_eq!(
            checker_down(&CheckerKind::Tcp, "[192.0.2.10]:tcp:80", "", 2),
            "TCP_CHECK on service [192.0.2.10]:tcp:80 failed after 2 retries."
        );
    }
}
