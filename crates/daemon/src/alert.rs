//! `smtp_alert`: e-mail on VRRP state changes and checker events, as keepalived
//! `core/smtp.c` sends them.
//!
//! The message is keepalived's, byte for byte apart from the date (UTC here, local
//! time there) and the greeting (lettre says EHLO, keepalived HELO):
//!
//! ```text
//! Date: Sun, 22 Nov 2026 06:40:00 +0000
//! From: <notification_email_from>
//! Subject: [<router_id>] VRRP Instance VI_1 - Entering MASTER state
//! X-Mailer: Keepalived
//! To: a@example.org, b@example.org
//!
//! => VRRP Instance is now owning VRRP VIPs <=
//! ```
//!
//! Sending never holds up the caller: [`Alerter`] queues at most [`QUEUE`] mails for
//! one sender task (a full queue drops the new mail with a warning), and every
//! exchange with the server is bounded by `smtp_connect_timeout` per step (lettre's
//! timeout), the whole mail by [`SEND_STEPS`] of them. A dead, refusing or stalling
//! server only costs log lines.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use config::model::global::GlobalConfig;
use lettre::address::{Address, Envelope};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use tokio::sync::mpsc;
use tracing::{info, warn};
use vrrp::router::State;

/// Mails waiting at most; more are dropped (an alert storm must not grow memory).
pub const QUEUE: usize = 64;
/// A mail is given up after this many `smtp_connect_timeout`s (connect, greeting,
/// EHLO, MAIL, RCPT…, DATA, body, QUIT each have one).
pub const SEND_STEPS: u32 = 8;

/// Where and as whom alerts are sent (keepalived `global_defs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub helo_name: String,
    pub from: String,
    pub to: Vec<String>,
    pub router_id: String,
    pub connect_timeout: Duration,
}

impl SmtpSettings {
    /// keepalived sends nothing without both a server and at least one address
    /// (`smtp_alert()`); the defaults follow `init_global_data()`: router_id, HELO
    /// name and the host part of the sender are the local host name.
    pub fn from_global(global: &GlobalConfig) -> Option<SmtpSettings> {
        let server = global.smtp_server.as_ref()?;
        if global.notification_email.is_empty() {
            return None;
        }
        let local_name = nix::unistd::gethostname()
            .ok()
            .and_then(|h| h.into_string().ok())
            .unwrap_or_else(|| "[unknown]".to_string());
        let user = nix::unistd::User::from_uid(nix::unistd::getuid())
            .ok()
            .flatten()
            .map_or_else(|| "root".to_string(), |u| u.name);
        Some(SmtpSettings {
            host: server.host.clone(),
            port: server.port,
            helo_name: global
                .smtp_helo_name
                .clone()
                .unwrap_or_else(|| local_name.clone()),
            from: global
                .notification_email_from
                .clone()
                .unwrap_or_else(|| format!("{user}@{local_name}")),
            to: global.notification_email.clone(),
            router_id: global.router_id.clone().unwrap_or(local_name),
            // keepalived raises 0 to 1 s.
            connect_timeout: global.smtp_connect_timeout.max(Duration::from_secs(1)),
        })
    }
}

/// One alert: keepalived's subject (without the `[router_id]` prefix) and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub subject: String,
    pub body: String,
}

/// keepalived's subject and body for a VRRP instance entering `state`
/// (`vrrp_smtp_notifier()`); `None` for states it does not mail about.
pub fn instance_mail(name: &str, state: State) -> Option<Mail> {
    let (what, body) = match state {
        State::Master => (
            "Entering MASTER state",
            "=> VRRP Instance is now owning VRRP VIPs <=",
        ),
        State::Backup => (
            "Entering BACKUP state",
            "=> VRRP Instance is no longer owning VRRP VIPs <=",
        ),
        State::Fault => (
            "Entering FAULT state",
            "=> VRRP Instance is no longer owning VRRP VIPs <=",
        ),
        State::Stop => ("Stopping", "=> VRRP Instance stopping <="),
        State::Init => return None,
    };
    Some(Mail {
        subject: format!("VRRP Instance {name} - {what}"),
        body: body.to_string(),
    })
}

/// The same for a sync group (`vrrp_sync_smtp_notifier()`).
pub fn group_mail(name: &str, state: State) -> Option<Mail> {
    let (what, body) = match state {
        State::Master => (
            "Entering MASTER state",
            "=> All VRRP group instances are now in MASTER state <=",
        ),
        State::Backup => (
            "Entering BACKUP state",
            "=> All VRRP group instances are now in BACKUP state <=",
        ),
        State::Fault => (
            "Entering FAULT state",
            "=> All VRRP group instances are now in FAULT state <=",
        ),
        State::Stop => (
            "Stopping",
            "=> All VRRP group instances are now stopping <=",
        ),
        State::Init => return None,
    };
    Some(Mail {
        subject: format!("VRRP Group {name} - {what}"),
        body: body.to_string(),
    })
}

/// A real server changed state (keepalived `SMTP_MSG_RS`; the checkers' messages
/// are the body, e.g. "=> TCP CHECK succeed on service <="). `real_server` and
/// `virtual_server` are formatted as keepalived's `FMT_RS` / `FMT_VS`.
pub fn real_server_mail(real_server: &str, virtual_server: &str, up: bool, body: &str) -> Mail {
    Mail {
        subject: format!(
            "Realserver {real_server} of virtual server {virtual_server} - {}",
            if up { "UP" } else { "DOWN" }
        ),
        body: body.to_string(),
    }
}

/// A real server removed at shutdown or reload (`SMTP_MSG_RS_SHUT`): body
/// "=> Shutting down <=" or "=> Removing <=".
pub fn real_server_shut_mail(real_server: &str, virtual_server: &str, stopping: bool) -> Mail {
    Mail {
        subject: format!("Realserver {real_server} of virtual server {virtual_server} - DOWN"),
        body: if stopping {
            "=> Shutting down <="
        } else {
            "=> Removing <="
        }
        .to_string(),
    }
}

/// A virtual server's quorum changed (`SMTP_MSG_VS`).
pub fn virtual_server_mail(virtual_server: &str, up: bool, body: &str) -> Mail {
    Mail {
        subject: format!(
            "Virtualserver {virtual_server} - {}",
            if up { "UP" } else { "DOWN" }
        ),
        body: body.to_string(),
    }
}

/// The message as keepalived writes it after DATA (lettre adds the final ".").
pub fn message_text(settings: &SmtpSettings, mail: &Mail, date: &str) -> String {
    format!(
        "Date: {date}\r\nFrom: {}\r\nSubject: [{}] {}\r\nX-Mailer: Keepalived\r\nTo: {}\r\n\r\n{}\r\n",
        settings.from,
        settings.router_id,
        mail.subject,
        settings.to.join(", "),
        mail.body
    )
}

/// Which VRRP instances and groups mail, and what they last mailed about
/// (keepalived mails a state once, `last_email_state`).
#[derive(Debug, Default)]
struct VrrpFilter {
    instances: HashSet<String>,
    groups: HashSet<String>,
    no_email_faults: bool,
    last: Mutex<HashMap<(bool, String), State>>,
}

impl VrrpFilter {
    /// `smtp_alert` of an instance or group, else `smtp_alert_vrrp`, else
    /// `smtp_alert`, else off (keepalived `vrrp_complete_instance()`).
    fn from_config(config: &config::Config) -> VrrpFilter {
        let global = &config.global;
        let default = global
            .smtp_alert_vrrp
            .or(global.smtp_alert)
            .unwrap_or(false);
        VrrpFilter {
            instances: config
                .vrrp
                .instances
                .iter()
                .filter(|i| i.smtp_alert.unwrap_or(default))
                .map(|i| i.name.clone())
                .collect(),
            groups: config
                .vrrp
                .sync_groups
                .iter()
                .filter(|g| g.smtp_alert.unwrap_or(default))
                .map(|g| g.name.clone())
                .collect(),
            no_email_faults: global.no_email_faults,
            last: Mutex::new(HashMap::new()),
        }
    }

    fn wants(&self, group: bool, name: &str, state: State) -> bool {
        let enabled = if group {
            self.groups.contains(name)
        } else {
            self.instances.contains(name)
        };
        if !enabled || (self.no_email_faults && state == State::Fault) {
            return false;
        }
        let Ok(mut last) = self.last.lock() else {
            return false;
        };
        last.insert((group, name.to_string()), state) != Some(state)
    }
}

/// The alert queue. Cheap to clone; every clone feeds the same sender task.
#[derive(Debug, Clone)]
pub struct Alerter {
    queue: mpsc::Sender<Mail>,
    vrrp: Arc<VrrpFilter>,
}

impl Alerter {
    /// Starts the sender task on the current tokio runtime; `None` when the
    /// configuration sends no mail (no `smtp_server` or no `notification_email`).
    /// `log_detail` (`-D`) logs every mail sent, as keepalived does.
    pub fn start(config: &config::Config, log_detail: bool) -> Option<Alerter> {
        let settings = SmtpSettings::from_global(&config.global)?;
        let (queue, mut pending) = mpsc::channel::<Mail>(QUEUE);
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
            .port(settings.port)
            .hello_name(ClientId::Domain(settings.helo_name.clone()))
            .timeout(Some(settings.connect_timeout))
            .build();
        let envelope = envelope(&settings);
        tokio::spawn(async move {
            while let Some(mail) = pending.recv().await {
                let Some(envelope) = &envelope else {
                    continue;
                };
                let text = message_text(
                    &settings,
                    &mail,
                    &crate::logging::mail_date(SystemTime::now()),
                );
                let limit = settings.connect_timeout * SEND_STEPS;
                match tokio::time::timeout(limit, transport.send_raw(envelope, text.as_bytes()))
                    .await
                {
                    Ok(Ok(_)) if log_detail => info!("SMTP alert successfully sent."),
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => info!(
                        "SMTP alert to {}:{} failed: {e}",
                        settings.host, settings.port
                    ),
                    Err(_) => info!(
                        "Timeout sending SMTP alert to {}:{}",
                        settings.host, settings.port
                    ),
                }
            }
        });
        Some(Alerter {
            queue,
            vrrp: Arc::new(VrrpFilter::from_config(config)),
        })
    }

    /// Queues a mail; never waits.
    pub fn send(&self, mail: Mail) {
        match self.queue.try_send(mail) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(mail)) => {
                warn!("SMTP alert queue full - dropping '{}'", mail.subject);
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    /// A VRRP instance entered `state` (mailed if its `smtp_alert` says so).
    pub fn vrrp_instance(&self, name: &str, state: State) {
        if self.vrrp.wants(false, name, state)
            && let Some(mail) = instance_mail(name, state)
        {
            self.send(mail);
        }
    }

    /// A sync group entered `state`.
    pub fn vrrp_group(&self, name: &str, state: State) {
        if self.vrrp.wants(true, name, state)
            && let Some(mail) = group_mail(name, state)
        {
            self.send(mail);
        }
    }
}

/// The SMTP envelope: `notification_email_from` to every `notification_email`;
/// `None` (and a warning) when an address cannot be used.
fn envelope(settings: &SmtpSettings) -> Option<Envelope> {
    let from = match settings.from.parse::<Address>() {
        Ok(a) => a,
        Err(e) => {
            warn!(
                "notification_email_from '{}' is not an address ({e}) - no SMTP alerts",
                settings.from
            );
            return None;
        }
    };
    let to: Vec<Address> = settings
        .to
        .iter()
        .filter_map(|t| match t.parse::<Address>() {
            Ok(a) => Some(a),
            Err(e) => {
                warn!("notification_email '{t}' is not an address ({e}) - skipped");
                None
            }
        })
        .collect();
    Envelope::new(Some(from), to)
        .map_err(|e| warn!("no usable notification_email ({e}) - no SMTP alerts"))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> SmtpSettings {
        SmtpSettings {
            host: "127.0.0.1".into(),
            port: 25,
            helo_name: "lb1".into(),
            from: "keepalived@lb1.example.org".into(),
            to: vec!["ops@example.org".into(), "oncall@example.org".into()],
            router_id: "LB1".into(),
            connect_timeout: Duration::from_secs(30),
        }
    }

    #[test]
    fn message_is_keepalived_s() {
        let mail = instance_mail("VI_1", State::Master).expect("mailed");
        assert_eq!(
            message_text(&settings(), &mail, "Sun, 22 Nov 2026 06:40:00 +0000"),
            "Date: Sun, 22 Nov 2026 06:40:00 +0000\r\nFrom: keepalived@lb1.example.org\r\n\
             Subject: [LB1] VRRP Instance VI_1 - Entering MASTER state\r\nX-Mailer: Keepalived\r\n\
             To: ops@example.org, oncall@example.org\r\n\r\n\
             => VRRP Instance is now owning VRRP VIPs <=\r\n"
        );
    }

    #[test]
    fn subjects_and_bodies() {
        let fault = instance_mail("VI_1", State::Fault).expect("mailed");
        assert_eq!(fault.subject, "VRRP Instance VI_1 - Entering FAULT state");
        assert_eq!(
            fault.body,
            "=> VRRP Instance is no longer owning VRRP VIPs <="
        );
        assert_eq!(
            instance_mail("VI_1", State::Stop).map(|m| m.body),
            Some("=> VRRP Instance stopping <=".to_string())
        );
        assert_eq!(instance_mail("VI_1", State::Init), None);
        let group = group_mail("G", State::Backup).expect("mailed");
        assert_eq!(group.subject, "VRRP Group G - Entering BACKUP state");
        assert_eq!(
            group.body,
            "=> All VRRP group instances are now in BACKUP state <="
        );
        let rs = real_server_mail(
            "[192.0.2.1]:tcp:80",
            "[192.0.2.100]:tcp:80",
            false,
            "=> TCP CHECK failed on service <=",
        );
        assert_eq!(
            rs.subject,
            "Realserver [192.0.2.1]:tcp:80 of virtual server [192.0.2.100]:tcp:80 - DOWN"
        );
        assert_eq!(
            real_server_shut_mail("a", "b", true).body,
            "=> Shutting down <="
        );
        assert_eq!(
            virtual_server_mail("v", true, "=> x <=").subject,
            "Virtualserver v - UP"
        );
    }

    #[test]
    fn each_state_is_mailed_once_and_faults_can_be_muted() {
        let mut filter = VrrpFilter {
            instances: ["VI_1".to_string()].into_iter().collect(),
            ..VrrpFilter::default()
        };
        assert!(filter.wants(false, "VI_1", State::Backup));
        assert!(!filter.wants(false, "VI_1", State::Backup));
        assert!(filter.wants(false, "VI_1", State::Master));
        assert!(!filter.wants(false, "VI_2", State::Master), "not enabled");
        assert!(!filter.wants(true, "VI_1", State::Master), "not a group");
        filter.no_email_faults = true;
        assert!(!filter.wants(false, "VI_1", State::Fault));
    }

    #[test]
    fn defaults_follow_global_defs() {
        let mut global = GlobalConfig::default();
        assert_eq!(SmtpSettings::from_global(&global), None, "no server");
        global.smtp_server = Some(config::model::global::SmtpServer {
            host: "192.0.2.25".into(),
            port: 2525,
        });
        assert_eq!(SmtpSettings::from_global(&global), None, "no recipient");
        global.notification_email = vec!["ops@example.org".into()];
        global.smtp_connect_timeout = Duration::ZERO;
        let s = SmtpSettings::from_global(&global).expect("settings");
        assert_eq!(s.connect_timeout, Duration::from_secs(1));
        assert!(s.from.contains('@'), "{}", s.from);
        assert!(!s.router_id.is_empty());
        assert_eq!((s.host.as_str(), s.port), ("192.0.2.25", 2525));
    }
}
