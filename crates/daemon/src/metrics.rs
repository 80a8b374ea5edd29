//! Native Prometheus metrics (opt-in: `--metrics-listen ADDR:PORT`), served by the
//! VRRP process on `GET /metrics`, encoded by the `prometheus-client` crate: as
//! OpenMetrics for scrapers that accept it, else in the classic text format.
//!
//! Names and labels follow keepalived-exporter's where they overlap
//! (`keepalived_advertisements_received_total{iname,intf,vrid,state}`,
//! `keepalived_vrrp_state{iname,intf,vrid,ip_address}`, `keepalived_script_status{name}`,
//! ...), so its dashboards and alerts keep working; the rest are ours
//! (`keepalived_vrrp_*`). Each scrape asks the runtime for a fresh [`Snapshot`] over
//! the command channel: nothing is kept up to date on the VRRP hot path.

use std::net::SocketAddr;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use thiserror::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tracing::{debug, error, info};

use crate::control::{Command, CommandSender};
use crate::dump::json::state_number;
use crate::vrrp::snapshot::{InstanceSnapshot, Snapshot};

/// OpenMetrics text, served to scrapers that ask for it (Prometheus does).
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// The classic Prometheus text format, served otherwise (what keepalived-exporter,
/// `curl` and `promtool check metrics` expect).
pub const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Debug, Error)]
pub enum MetricsError {
    #[error("cannot listen on {address} for metrics: {source}")]
    Listen {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot encode the metrics: {0}")]
    Encode(#[from] std::fmt::Error),
}

/// keepalived-exporter's labels of per-instance counters.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InstanceLabels {
    iname: String,
    intf: String,
    vrid: String,
    state: String,
}

/// Per-instance gauges of ours: the state would change the series at each transition.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouterLabels {
    iname: String,
    intf: String,
    vrid: String,
}

/// keepalived-exporter's `keepalived_vrrp_state` labels (one series per VIP).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VipLabels {
    iname: String,
    intf: String,
    vrid: String,
    ip_address: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TrackerLabels {
    iname: String,
    kind: String,
    name: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NameLabels {
    name: String,
}

fn counter_family(
    registry: &mut Registry,
    name: &str,
    help: &str,
) -> Family<InstanceLabels, Counter> {
    let family = Family::<InstanceLabels, Counter>::default();
    registry.register(name, help, family.clone());
    family
}

fn gauge_family<L>(registry: &mut Registry, name: &str, help: &str) -> Family<L, Gauge>
where
    L: EncodeLabelSet + Clone + std::hash::Hash + Eq + std::fmt::Debug + Send + Sync + 'static,
{
    let family = Family::<L, Gauge>::default();
    registry.register(name, help, family.clone());
    family
}

/// The interface keepalived-exporter reports (`ifp_ifname`: the VMAC unless
/// `vmac_xmit_base`).
fn interface_of(inst: &InstanceSnapshot) -> String {
    inst.vmac_interface
        .clone()
        .filter(|_| !inst.vmac_xmit_base)
        .unwrap_or_else(|| inst.interface.clone())
}

/// keepalived-exporter's state words (`getStringState`).
fn state_word(state: vrrp::router::State) -> &'static str {
    use vrrp::router::State;
    match state {
        State::Init => "INIT",
        State::Backup => "BACKUP",
        State::Master => "MASTER",
        State::Fault => "FAULT",
        State::Stop => "STOP",
    }
}

/// The scrape body.
pub fn render(snapshot: &Snapshot) -> Result<String, MetricsError> {
    let mut registry = Registry::default();
    let up = Gauge::<i64>::default();
    registry.register("keepalived_up", "Whether keepalived is running", up.clone());
    up.set(1);

    let vrrp_state = gauge_family::<VipLabels>(
        &mut registry,
        "keepalived_vrrp_state",
        "State of the VRRP instance owning the address (0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT)",
    );
    let excluded_state = gauge_family::<VipLabels>(
        &mut registry,
        "keepalived_vrrp_excluded_state",
        "State of the VRRP instance owning the excluded address",
    );
    let garp_delay = counter_family(
        &mut registry,
        "keepalived_gratuitous_arp_delay",
        "Gratuitous ARP delay (s)",
    );
    // (field, exporter name without _total, help)
    type Pick = fn(&crate::vrrp::snapshot::Counters) -> u64;
    let counters: [(Pick, &str, &str); 19] = [
        (
            |c| c.advert_rcvd,
            "keepalived_advertisements_received",
            "Advertisements received",
        ),
        (
            |c| c.advert_sent,
            "keepalived_advertisements_sent",
            "Advertisements sent",
        ),
        (
            |c| c.become_master,
            "keepalived_become_master",
            "Became master",
        ),
        (
            |c| c.release_master,
            "keepalived_release_master",
            "Released master",
        ),
        (
            |c| c.packet_len_err,
            "keepalived_packet_length_errors",
            "Packet length errors",
        ),
        (
            |c| c.advert_interval_err,
            "keepalived_advertisements_interval_errors",
            "Advertisement interval errors",
        ),
        (|c| c.ip_ttl_err, "keepalived_ip_ttl_errors", "TTL errors"),
        (
            |c| c.invalid_type_rcvd,
            "keepalived_invalid_type_received",
            "Invalid type errors",
        ),
        (
            |c| c.addr_list_err,
            "keepalived_address_list_errors",
            "Address list errors",
        ),
        (
            |c| c.invalid_authtype,
            "keepalived_authentication_invalid",
            "Authentication invalid",
        ),
        (
            |c| c.authtype_mismatch,
            "keepalived_authentication_mismatch",
            "Authentication mismatch",
        ),
        (
            |c| c.auth_failure,
            "keepalived_authentication_failure",
            "Authentication failure",
        ),
        (
            |c| c.pri_zero_rcvd,
            "keepalived_priority_zero_received",
            "Priority zero received",
        ),
        (
            |c| c.pri_zero_sent,
            "keepalived_priority_zero_sent",
            "Priority zero sent",
        ),
        (
            |c| c.version_err,
            "keepalived_vrrp_version_errors",
            "Adverts with another VRRP version",
        ),
        (
            |c| c.checksum_err,
            "keepalived_vrrp_checksum_errors",
            "Adverts with a bad checksum",
        ),
        (
            |c| c.vrid_err,
            "keepalived_vrrp_vrid_errors",
            "Adverts for another virtual router id",
        ),
        (
            |c| c.malformed_err,
            "keepalived_vrrp_malformed_errors",
            "Malformed adverts (short, bad headers, unexpected protocol)",
        ),
        (
            |c| c.unicast_src_err,
            "keepalived_vrrp_unicast_source_errors",
            "Unicast adverts from an address that is not a configured peer",
        ),
    ];
    let counter_families: Vec<(Pick, Family<InstanceLabels, Counter>)> = counters
        .iter()
        .map(|(pick, name, help)| (*pick, counter_family(&mut registry, name, help)))
        .collect();
    let transitions = Family::<RouterLabels, Counter>::default();
    registry.register(
        "keepalived_vrrp_transitions",
        "State transitions of the VRRP instance",
        transitions.clone(),
    );
    let instance_state = gauge_family::<RouterLabels>(
        &mut registry,
        "keepalived_vrrp_instance_state",
        "State of the VRRP instance (0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT, 98 STOP)",
    );
    let priority = gauge_family::<RouterLabels>(
        &mut registry,
        "keepalived_vrrp_priority",
        "Configured priority",
    );
    let effective_priority = gauge_family::<RouterLabels>(
        &mut registry,
        "keepalived_vrrp_effective_priority",
        "Priority advertised, after tracking",
    );
    let master_priority = gauge_family::<RouterLabels>(
        &mut registry,
        "keepalived_vrrp_master_priority",
        "Priority of the master last heard (0: none)",
    );
    let vips_set = gauge_family::<RouterLabels>(
        &mut registry,
        "keepalived_vrrp_vips_set",
        "Whether the instance's virtual addresses are installed",
    );
    let last_transition = gauge_family::<RouterLabels>(
        &mut registry,
        "keepalived_vrrp_last_transition_timestamp_seconds",
        "Time of the last state change (Unix time)",
    );
    let tracker_up = gauge_family::<TrackerLabels>(
        &mut registry,
        "keepalived_vrrp_tracker_up",
        "Status of a tracked script, interface or file of an instance (1 up)",
    );
    let tracker_weight = gauge_family::<TrackerLabels>(
        &mut registry,
        "keepalived_vrrp_tracker_weight",
        "Weight of a tracker (0: FAULT while down)",
    );
    let script_status = gauge_family::<NameLabels>(
        &mut registry,
        "keepalived_script_status",
        "Tracker script status (1 GOOD, 0 BAD)",
    );

    for inst in &snapshot.instances {
        let intf = interface_of(inst);
        let vrid = inst.vrid.to_string();
        let state = state_number(inst.state);
        let labels = InstanceLabels {
            iname: inst.name.clone(),
            intf: intf.clone(),
            vrid: vrid.clone(),
            state: state_word(inst.state).to_string(),
        };
        let router = RouterLabels {
            iname: inst.name.clone(),
            intf: intf.clone(),
            vrid: vrid.clone(),
        };
        for (pick, family) in &counter_families {
            family.get_or_create(&labels).inc_by(pick(&inst.counters));
        }
        garp_delay
            .get_or_create(&labels)
            .inc_by(inst.garp.master_delay.as_secs());
        for vip in &inst.vips {
            let family = if vip.excluded {
                &excluded_state
            } else {
                &vrrp_state
            };
            family
                .get_or_create(&VipLabels {
                    iname: inst.name.clone(),
                    intf: intf.clone(),
                    vrid: vrid.clone(),
                    ip_address: vip.address.to_string(),
                })
                .set(i64::from(state));
        }
        transitions.get_or_create(&router).inc_by(inst.transitions);
        instance_state.get_or_create(&router).set(i64::from(state));
        priority
            .get_or_create(&router)
            .set(i64::from(inst.base_priority));
        effective_priority
            .get_or_create(&router)
            .set(i64::from(inst.effective_priority));
        master_priority
            .get_or_create(&router)
            .set(inst.master.map_or(0, |(_, p)| i64::from(p)));
        vips_set
            .get_or_create(&router)
            .set(i64::from(inst.vips_set));
        let (secs, _) = crate::dump::epoch_micros(inst.last_transition);
        last_transition
            .get_or_create(&router)
            .set(i64::try_from(secs).unwrap_or(i64::MAX));
        for tracker in &inst.trackers {
            let labels = TrackerLabels {
                iname: inst.name.clone(),
                kind: tracker.kind.as_str().to_string(),
                name: tracker.name.clone(),
            };
            tracker_up
                .get_or_create(&labels)
                .set(i64::from(tracker.is_up()));
            tracker_weight
                .get_or_create(&labels)
                .set(i64::from(tracker.weight));
        }
    }
    for script in &snapshot.scripts {
        script_status
            .get_or_create(&NameLabels {
                name: script.name.clone(),
            })
            .set(i64::from(script.up));
    }
    let mut body = String::new();
    prometheus_client::encoding::text::encode(&mut body, &registry)?;
    Ok(body)
}

/// OpenMetrics → classic Prometheus text (format 0.0.4): there, a counter's HELP and
/// TYPE lines name the `_total` series, and there is no `# EOF`.
pub fn to_prometheus_text(openmetrics: &str) -> String {
    let counters: std::collections::HashSet<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len() + 64 * counters.len());
    for line in openmetrics.lines() {
        if line == "# EOF" {
            continue;
        }
        let meta = ["# HELP ", "# TYPE "]
            .into_iter()
            .find_map(|prefix| Some((prefix, line.strip_prefix(prefix)?)));
        match meta {
            Some((prefix, rest)) => {
                let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                let suffix = if counters.contains(name) {
                    "_total"
                } else {
                    ""
                };
                out.push_str(&format!("{prefix}{name}{suffix} {tail}\n"));
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// Asks the runtime for a snapshot; `None` when it is gone.
pub async fn request_snapshot(commands: &CommandSender) -> Option<Box<Snapshot>> {
    let (reply, answer) = tokio::sync::oneshot::channel();
    commands.send(Command::Snapshot(reply)).ok()?;
    answer.await.ok()
}

/// Binds `address` and serves `GET /metrics` until the runtime is gone.
pub async fn serve(address: SocketAddr, commands: CommandSender) -> Result<(), MetricsError> {
    let listener = TcpListener::bind(address)
        .await
        .map_err(|source| MetricsError::Listen { address, source })?;
    info!("Serving Prometheus metrics on http://{address}/metrics");
    tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, peer)) => {
                    let commands = commands.clone();
                    tokio::spawn(async move {
                        if let Err(e) = answer(stream, &commands).await {
                            debug!("metrics request from {peer}: {e}");
                        }
                    });
                }
                Err(e) => {
                    error!("metrics: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            if commands.is_closed() {
                return;
            }
        }
    });
    Ok(())
}

/// How long a client may take to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Requests are a line and a few headers; anything longer is refused.
const MAX_REQUEST: usize = 8192;

/// One HTTP/1.x exchange: the request head is read, one response written, and the
/// connection closed (scrapers open one per scrape).
async fn answer(mut stream: TcpStream, commands: &CommandSender) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    let complete = tokio::time::timeout(REQUEST_TIMEOUT, async {
        loop {
            let n = stream.read(&mut buffer).await?;
            if n == 0 {
                return Ok::<bool, std::io::Error>(false);
            }
            head.extend_from_slice(buffer.get(..n).unwrap_or(&[]));
            if head.windows(4).any(|w| w == b"\r\n\r\n") || head.windows(2).any(|w| w == b"\n\n") {
                return Ok(true);
            }
            if head.len() > MAX_REQUEST {
                return Ok(false);
            }
        }
    })
    .await;
    if !matches!(complete, Ok(Ok(true))) {
        return write_response(
            &mut stream,
            false,
            "400 Bad Request",
            "text/plain",
            "bad request\n",
        )
        .await;
    }
    let text = String::from_utf8_lossy(&head);
    let mut words = text.lines().next().unwrap_or("").split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    // HEAD: the head of the GET response, without its body (RFC 9110 section 9.3.2).
    let head_only = method == "HEAD";
    if method != "GET" && method != "HEAD" {
        return write_response(
            &mut stream,
            head_only,
            "405 Method Not Allowed",
            "text/plain",
            "only GET\n",
        )
        .await;
    }
    if path != "/metrics" {
        return write_response(
            &mut stream,
            head_only,
            "404 Not Found",
            "text/plain",
            "try /metrics\n",
        )
        .await;
    }
    let body = match request_snapshot(commands).await {
        Some(snapshot) => render(&snapshot),
        None => {
            return write_response(
                &mut stream,
                head_only,
                "503 Service Unavailable",
                "text/plain",
                "stopping\n",
            )
            .await;
        }
    };
    // Content negotiation, as client_golang does it: OpenMetrics only when asked for.
    let wants_openmetrics = text.lines().any(|l| {
        let lower = l.to_ascii_lowercase();
        lower.starts_with("accept:") && lower.contains("application/openmetrics-text")
    });
    match body {
        Ok(body) if wants_openmetrics => {
            write_response(&mut stream, head_only, "200 OK", OPENMETRICS, &body).await
        }
        Ok(body) => {
            let text = to_prometheus_text(&body);
            write_response(&mut stream, head_only, "200 OK", PROMETHEUS_TEXT, &text).await
        }
        Err(e) => {
            write_response(
                &mut stream,
                head_only,
                "500 Internal Server Error",
                "text/plain",
                &format!("{e}\n"),
            )
            .await
        }
    }
}

async fn write_response(
    stream: &mut TcpStream,
    head_only: bool,
    status: &str,
    content_type: &str,
    body: &str,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    if !head_only {
        stream.write_all(body.as_bytes()).await?;
    }
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_text_names_counters_with_total() {
        let openmetrics = "# HELP a_b Things.\n# TYPE a_b counter\na_b_total{x=\"1\"} 3\n\
                           # HELP g A gauge.\n# TYPE g gauge\ng 1\n# EOF\n";
        assert_eq!(
            to_prometheus_text(openmetrics),
            "# HELP a_b_total Things.\n# TYPE a_b_total counter\na_b_total{x=\"1\"} 3\n\
             # HELP g A gauge.\n# TYPE g gauge\ng 1\n"
        );
    }
}
