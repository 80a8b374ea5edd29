//! Typed model: global_defs and process-wide root settings.
//!
//! One field per keyword of keepalived 2.2.7's `global_defs` block (core/global_parser.c)
//! and per process-wide root keyword, named after the keyword. Defaults are keepalived's
//! (core/global_data.c `alloc_global_data()` / `set_vrrp_defaults()`). `Option` is used
//! where "not configured" differs from any value (keepalived's PARAMETER_UNSET / NULL).

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use crate::script::Script;
use crate::span::Span;

/// keepalived's RT_RLIMIT_DEFAULT (lib/process.h): default RLIMIT_RTTIME, in µs.
pub const RT_RLIMIT_DEFAULT: u64 = 10_000;
/// keepalived's DEFAULT_IPVS_NF_START_FWMARK (check_nftables.h).
pub const DEFAULT_IPVS_NF_START_FWMARK: u32 = 1000;
/// The default script user keepalived looks for (lib/notify.c).
pub const DEFAULT_SCRIPT_USER: &str = "keepalived_script";

/// Everything in the configuration about this domain.
#[derive(Debug, Clone, PartialEq)]
pub struct GlobalConfig {
    // ---- Root-level keywords -------------------------------------------------------
    /// `linkbeat_use_polling`.
    pub linkbeat_use_polling: bool,
    /// `net_namespace NAME`.
    pub net_namespace: Option<String>,
    /// `net_namespace_ipvs [NAME]`; `Some("")` means the default namespace.
    pub net_namespace_ipvs: Option<String>,
    /// `namespace_with_ipsets`.
    pub namespace_with_ipsets: bool,
    /// `use_pid_dir` (also implied by `net_namespace` and `instance`).
    pub use_pid_dir: bool,
    /// `instance NAME`.
    pub instance: Option<String>,
    /// `child_wait_time SECS`.
    pub child_wait_time: Option<Duration>,

    // ---- Process names ---------------------------------------------------------------
    /// `process_name`.
    pub process_name: Option<String>,
    /// `vrrp_process_name` (or `process_names`: keepalived_vrrp).
    pub vrrp_process_name: Option<String>,
    /// `checker_process_name` / deprecated `lvs_process_name` (or `process_names`).
    pub checker_process_name: Option<String>,
    /// `bfd_process_name` (or `process_names`).
    pub bfd_process_name: Option<String>,

    // ---- Identity and e-mail -----------------------------------------------------------
    /// `router_id`; `None` = keepalived uses the local host name.
    pub router_id: Option<String>,
    /// `notification_email_from`.
    pub notification_email_from: Option<String>,
    /// `smtp_server HOST [PORT]`.
    pub smtp_server: Option<SmtpServer>,
    /// `smtp_helo_name`.
    pub smtp_helo_name: Option<String>,
    /// `smtp_connect_timeout` (keepalived: 30s default, 0 is raised to 1s).
    pub smtp_connect_timeout: Duration,
    /// `notification_email { ... }`.
    pub notification_email: Vec<String>,
    /// `smtp_alert [BOOL]`; `None` = unset (keepalived's -1).
    pub smtp_alert: Option<bool>,
    /// `smtp_alert_vrrp [BOOL]`.
    pub smtp_alert_vrrp: Option<bool>,
    /// `smtp_alert_checker [BOOL]`.
    pub smtp_alert_checker: Option<bool>,
    /// `no_email_faults`.
    pub no_email_faults: bool,
    /// `checker_log_all_failures [BOOL]`.
    pub checker_log_all_failures: bool,
    /// `rs_init_notifies [BOOL]`.
    pub rs_init_notifies: bool,
    /// `no_checker_emails [BOOL]`.
    pub no_checker_emails: bool,

    // ---- Startup / shutdown scripts ----------------------------------------------------
    /// `startup_script "CMD ARGS" [USER [GROUP]]`.
    pub startup_script: Option<Script>,
    /// `startup_script_timeout SECS` (1..=1000; 10 once a script is set).
    pub startup_script_timeout: Option<Duration>,
    /// `shutdown_script`.
    pub shutdown_script: Option<Script>,
    /// `shutdown_script_timeout SECS`.
    pub shutdown_script_timeout: Option<Duration>,

    // ---- Scheduling ------------------------------------------------------------------
    /// `max_auto_priority [PRIO]`: 0 = not set, -1 = disabled.
    pub max_auto_priority: i32,
    /// `min_auto_priority_delay USECS` (default 1s).
    pub min_auto_priority_delay_us: u32,
    /// `vrrp_priority` (nice, -20..=19).
    pub vrrp_priority: i8,
    /// `vrrp_no_swap`.
    pub vrrp_no_swap: bool,
    /// `vrrp_rt_priority`.
    pub vrrp_rt_priority: Option<i32>,
    /// `vrrp_cpu_affinity CPU...`.
    pub vrrp_cpu_affinity: Vec<u32>,
    /// `vrrp_rlimit_rttime` / deprecated `vrrp_rlimit_rtime` (µs).
    pub vrrp_rlimit_rttime_us: u64,
    /// `checker_priority`.
    pub checker_priority: i8,
    /// `checker_no_swap`.
    pub checker_no_swap: bool,
    /// `checker_rt_priority`.
    pub checker_rt_priority: Option<i32>,
    /// `checker_cpu_affinity`.
    pub checker_cpu_affinity: Vec<u32>,
    /// `checker_rlimit_rttime` / `checker_rlimit_rtime`.
    pub checker_rlimit_rttime_us: u64,
    /// `bfd_priority`.
    pub bfd_priority: i8,
    /// `bfd_no_swap`.
    pub bfd_no_swap: bool,
    /// `bfd_rt_priority`.
    pub bfd_rt_priority: Option<i32>,
    /// `bfd_cpu_affinity`.
    pub bfd_cpu_affinity: Vec<u32>,
    /// `bfd_rlimit_rttime` / `bfd_rlimit_rtime`.
    pub bfd_rlimit_rttime_us: u64,

    // ---- Interfaces ------------------------------------------------------------------
    /// `dynamic_interfaces [allow_if_changes]`.
    pub dynamic_interfaces: bool,
    /// `dynamic_interfaces allow_if_changes`.
    pub dynamic_interfaces_allow_if_changes: bool,
    /// `default_interface IFNAME` (checked to exist during VRRP validation).
    pub default_interface: Option<String>,
    /// Where `default_interface` was written.
    pub default_interface_span: Option<Span>,
    /// `disable_local_igmp`.
    pub disable_local_igmp: bool,

    // ---- LVS -------------------------------------------------------------------------
    /// `lvs_timeouts tcp N tcpfin N udp N`.
    pub lvs_timeouts: LvsTimeouts,
    /// `lvs_flush`.
    pub lvs_flush: bool,
    /// `lvs_flush_on_stop [VS]` / deprecated `lvs_flush_onstop`.
    pub lvs_flush_on_stop: LvsFlushOnStop,
    /// `lvs_sync_daemon IFNAME [inst NAME] [id N] [maxlen N] [port N] [ttl N] [group ADDR]`.
    pub lvs_sync_daemon: Option<LvsSyncDaemon>,

    // ---- VRRP ------------------------------------------------------------------------
    /// `vrrp_mcast_group4` (default 224.0.0.18, RFC 5798 §5.1.1.2).
    pub vrrp_mcast_group4: Ipv4Addr,
    /// `vrrp_mcast_group6` (default ff02::12, RFC 5798 §5.1.2.2).
    pub vrrp_mcast_group6: Ipv6Addr,
    /// `vrrp_garp_master_delay SECS` (default 5s).
    pub vrrp_garp_master_delay: Duration,
    /// `vrrp_garp_master_repeat N` (default 5).
    pub vrrp_garp_master_repeat: u32,
    /// `vrrp_garp_master_refresh SECS` (default 0 = none).
    pub vrrp_garp_master_refresh: Duration,
    /// `vrrp_garp_master_refresh_repeat N` (default 1).
    pub vrrp_garp_master_refresh_repeat: u32,
    /// `vrrp_garp_lower_prio_delay SECS`; `None` = the instance's garp_master_delay.
    pub vrrp_garp_lower_prio_delay: Option<Duration>,
    /// `vrrp_garp_lower_prio_repeat N`; `None` = the instance's garp_master_repeat.
    pub vrrp_garp_lower_prio_repeat: Option<u32>,
    /// `vrrp_down_timer_adverts N` (1..=100, default 3).
    pub vrrp_down_timer_adverts: u32,
    /// `vrrp_garp_interval SECS` (µs resolution; 0 = none).
    pub vrrp_garp_interval: Duration,
    /// `vrrp_gna_interval SECS`.
    pub vrrp_gna_interval: Duration,
    /// `vrrp_min_garp [BOOL]` (already applied to the garp fields above).
    pub vrrp_min_garp: bool,
    /// `vrrp_garp_extra_if [all] SECS` / deprecated `vrrp_vmac_garp_intvl`.
    pub vrrp_garp_extra_if: Option<Duration>,
    /// `vrrp_garp_extra_if all`.
    pub vrrp_garp_extra_if_all: bool,
    /// `vrrp_lower_prio_no_advert [BOOL]`.
    pub vrrp_lower_prio_no_advert: bool,
    /// `vrrp_higher_prio_send_advert [BOOL]`.
    pub vrrp_higher_prio_send_advert: bool,
    /// `vrrp_version 2|3` (default 2).
    pub vrrp_version: u8,
    /// `vrrp_iptables` was given (keepalived built without iptables maps it to nftables).
    pub vrrp_iptables: bool,
    /// `nftables [TABLE]` (or `vrrp_iptables`): the table name.
    pub nftables: Option<String>,
    /// `nftables_priority` (default -1 = keepalived picks).
    pub nftables_priority: i32,
    /// `nftables_ifindex`.
    pub nftables_ifindex: bool,
    /// `nftables_ipvs [TABLE]`.
    pub nftables_ipvs: Option<String>,
    /// `nftables_ipvs_priority`.
    pub nftables_ipvs_priority: i32,
    /// `nftables_ipvs_start_fwmark` (default 1000).
    pub nftables_ipvs_start_fwmark: u32,
    /// `nftables_counters`.
    pub nftables_counters: bool,
    /// `vrrp_check_unicast_src`.
    pub vrrp_check_unicast_src: bool,
    /// `vrrp_skip_check_adv_addr`.
    pub vrrp_skip_check_adv_addr: bool,
    /// `vrrp_strict`.
    pub vrrp_strict: bool,
    /// `vrrp_notify_priority_changes [BOOL]`.
    pub vrrp_notify_priority_changes: bool,
    /// `fifo_write_vrrp_states_on_reload`.
    pub fifo_write_vrrp_states_on_reload: bool,
    /// `vrrp_rx_bufs_policy MTU|ADVERT|SIZE`.
    pub vrrp_rx_bufs_policy: RxBufsPolicy,
    /// `vrrp_rx_bufs_multiplier N` (default 3).
    pub vrrp_rx_bufs_multiplier: u32,
    /// `vrrp_startup_delay SECS` (µs resolution).
    pub vrrp_startup_delay: Duration,
    /// `log_unknown_vrids`.
    pub log_unknown_vrids: bool,
    /// `vmac_prefix`.
    pub vmac_prefix: Option<String>,
    /// `vmac_addr_prefix`.
    pub vmac_addr_prefix: Option<String>,

    // ---- Notify FIFOs ------------------------------------------------------------------
    /// `notify_fifo` / `notify_fifo_script`.
    pub notify_fifo: NotifyFifo,
    /// `vrrp_notify_fifo` / `vrrp_notify_fifo_script`.
    pub vrrp_notify_fifo: NotifyFifo,
    /// `lvs_notify_fifo` / `lvs_notify_fifo_script`.
    pub lvs_notify_fifo: NotifyFifo,

    // ---- SNMP / DBus -------------------------------------------------------------------
    /// `snmp_socket`.
    pub snmp_socket: Option<String>,
    /// `enable_traps`.
    pub enable_traps: bool,
    /// `enable_snmp_vrrp` / deprecated `enable_snmp_keepalived`.
    pub enable_snmp_vrrp: bool,
    /// `enable_snmp_rfcv2` (or `enable_snmp_rfc`).
    pub enable_snmp_rfcv2: bool,
    /// `enable_snmp_rfcv3` (or `enable_snmp_rfc`).
    pub enable_snmp_rfcv3: bool,
    /// `enable_snmp_checker`.
    pub enable_snmp_checker: bool,
    /// `enable_dbus`.
    pub enable_dbus: bool,
    /// `dbus_service_name`.
    pub dbus_service_name: Option<String>,

    // ---- Scripts -----------------------------------------------------------------------
    /// `script_user USER [GROUP]`: the default user for scripts (else keepalived_script,
    /// else root).
    pub script_user: Option<String>,
    /// The GROUP of `script_user`.
    pub script_group: Option<String>,
    /// `enable_script_security`.
    pub enable_script_security: bool,
    /// Parse-order record of everything that sets or uses the default script user,
    /// replayed at validation (see [`crate::script`]).
    pub script_user_log: Vec<ScriptUserEvent>,
    /// The replay's outcome for each entry of `script_user_log`: the uid/gid a script
    /// using the default user gets, or `None` when keepalived could not set it.
    pub script_user_resolved: Vec<Option<(u32, u32)>>,
    /// What script checking found so far (for the single SECURITY VIOLATION report).
    pub script_audit: ScriptAudit,

    // ---- Netlink buffers ---------------------------------------------------------------
    /// `vrrp_netlink_cmd_rcv_bufs`.
    pub vrrp_netlink_cmd_rcv_bufs: Option<u32>,
    /// `vrrp_netlink_cmd_rcv_bufs_force [BOOL]`.
    pub vrrp_netlink_cmd_rcv_bufs_force: bool,
    /// `vrrp_netlink_monitor_rcv_bufs`.
    pub vrrp_netlink_monitor_rcv_bufs: Option<u32>,
    /// `vrrp_netlink_monitor_rcv_bufs_force [BOOL]`.
    pub vrrp_netlink_monitor_rcv_bufs_force: bool,
    /// `process_monitor_rcv_bufs`.
    pub process_monitor_rcv_bufs: Option<u32>,
    /// `process_monitor_rcv_bufs_force [BOOL]`.
    pub process_monitor_rcv_bufs_force: bool,
    /// `lvs_netlink_cmd_rcv_bufs`.
    pub lvs_netlink_cmd_rcv_bufs: Option<u32>,
    /// `lvs_netlink_cmd_rcv_bufs_force [BOOL]`.
    pub lvs_netlink_cmd_rcv_bufs_force: bool,
    /// `lvs_netlink_monitor_rcv_bufs`.
    pub lvs_netlink_monitor_rcv_bufs: Option<u32>,
    /// `lvs_netlink_monitor_rcv_bufs_force [BOOL]`.
    pub lvs_netlink_monitor_rcv_bufs_force: bool,

    // ---- Misc / reload -----------------------------------------------------------------
    /// `umask` (octal bits).
    pub umask: Option<u32>,
    /// `random_seed`.
    pub random_seed: Option<u32>,
    /// `reload_check_config [FILE]` (no file = /dev/null).
    pub reload_check_config: Option<String>,
    /// `reload_time_file FILE`.
    pub reload_time_file: Option<String>,
    /// `reload_repeat`.
    pub reload_repeat: bool,
    /// `reload_file [FILE]`.
    pub reload_file: Option<ReloadFile>,
    /// `include_check [+-]read|match|wildcard_match|brace_match ...`.
    pub include_check: Option<IncludeCheck>,
    /// `config_save_dir DIR` (trailing '/' removed).
    pub config_save_dir: Option<String>,
    /// `tmp_config_directory DIR`.
    pub tmp_config_directory: Option<String>,
    /// `data_use_instance [BOOL]`.
    pub data_use_instance: bool,
}

impl Default for GlobalConfig {
    fn default() -> Self {
        GlobalConfig {
            linkbeat_use_polling: false,
            net_namespace: None,
            net_namespace_ipvs: None,
            namespace_with_ipsets: false,
            use_pid_dir: false,
            instance: None,
            child_wait_time: None,
            process_name: None,
            vrrp_process_name: None,
            checker_process_name: None,
            bfd_process_name: None,
            router_id: None,
            notification_email_from: None,
            smtp_server: None,
            smtp_helo_name: None,
            smtp_connect_timeout: Duration::from_secs(30),
            notification_email: Vec::new(),
            smtp_alert: None,
            smtp_alert_vrrp: None,
            smtp_alert_checker: None,
            no_email_faults: false,
            checker_log_all_failures: false,
            rs_init_notifies: false,
            no_checker_emails: false,
            startup_script: None,
            startup_script_timeout: None,
            shutdown_script: None,
            shutdown_script_timeout: None,
            max_auto_priority: 0,
            min_auto_priority_delay_us: 1_000_000,
            vrrp_priority: 0,
            vrrp_no_swap: false,
            vrrp_rt_priority: None,
            vrrp_cpu_affinity: Vec::new(),
            vrrp_rlimit_rttime_us: RT_RLIMIT_DEFAULT,
            checker_priority: 0,
            checker_no_swap: false,
            checker_rt_priority: None,
            checker_cpu_affinity: Vec::new(),
            checker_rlimit_rttime_us: RT_RLIMIT_DEFAULT,
            bfd_priority: 0,
            bfd_no_swap: false,
            bfd_rt_priority: None,
            bfd_cpu_affinity: Vec::new(),
            bfd_rlimit_rttime_us: RT_RLIMIT_DEFAULT,
            dynamic_interfaces: false,
            dynamic_interfaces_allow_if_changes: false,
            default_interface: None,
            default_interface_span: None,
            disable_local_igmp: false,
            lvs_timeouts: LvsTimeouts::default(),
            lvs_flush: false,
            lvs_flush_on_stop: LvsFlushOnStop::None,
            lvs_sync_daemon: None,
            vrrp_mcast_group4: Ipv4Addr::new(224, 0, 0, 18),
            vrrp_mcast_group6: Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12),
            vrrp_garp_master_delay: Duration::from_secs(5),
            vrrp_garp_master_repeat: 5,
            vrrp_garp_master_refresh: Duration::ZERO,
            vrrp_garp_master_refresh_repeat: 1,
            vrrp_garp_lower_prio_delay: None,
            vrrp_garp_lower_prio_repeat: None,
            vrrp_down_timer_adverts: 3,
            vrrp_garp_interval: Duration::ZERO,
            vrrp_gna_interval: Duration::ZERO,
            vrrp_min_garp: false,
            vrrp_garp_extra_if: None,
            vrrp_garp_extra_if_all: false,
            vrrp_lower_prio_no_advert: false,
            vrrp_higher_prio_send_advert: false,
            vrrp_version: 2,
            vrrp_iptables: false,
            nftables: None,
            nftables_priority: -1,
            nftables_ifindex: false,
            nftables_ipvs: None,
            nftables_ipvs_priority: -1,
            nftables_ipvs_start_fwmark: DEFAULT_IPVS_NF_START_FWMARK,
            nftables_counters: false,
            vrrp_check_unicast_src: false,
            vrrp_skip_check_adv_addr: false,
            vrrp_strict: false,
            vrrp_notify_priority_changes: false,
            fifo_write_vrrp_states_on_reload: false,
            vrrp_rx_bufs_policy: RxBufsPolicy::default(),
            vrrp_rx_bufs_multiplier: 3,
            vrrp_startup_delay: Duration::ZERO,
            log_unknown_vrids: false,
            vmac_prefix: None,
            vmac_addr_prefix: None,
            notify_fifo: NotifyFifo::default(),
            vrrp_notify_fifo: NotifyFifo::default(),
            lvs_notify_fifo: NotifyFifo::default(),
            snmp_socket: None,
            enable_traps: false,
            enable_snmp_vrrp: false,
            enable_snmp_rfcv2: false,
            enable_snmp_rfcv3: false,
            enable_snmp_checker: false,
            enable_dbus: false,
            dbus_service_name: None,
            script_user: None,
            script_group: None,
            enable_script_security: false,
            script_user_log: Vec::new(),
            script_user_resolved: Vec::new(),
            script_audit: ScriptAudit::default(),
            vrrp_netlink_cmd_rcv_bufs: None,
            vrrp_netlink_cmd_rcv_bufs_force: false,
            vrrp_netlink_monitor_rcv_bufs: None,
            vrrp_netlink_monitor_rcv_bufs_force: false,
            process_monitor_rcv_bufs: None,
            process_monitor_rcv_bufs_force: false,
            lvs_netlink_cmd_rcv_bufs: None,
            lvs_netlink_cmd_rcv_bufs_force: false,
            lvs_netlink_monitor_rcv_bufs: None,
            lvs_netlink_monitor_rcv_bufs_force: false,
            umask: None,
            random_seed: None,
            reload_check_config: None,
            reload_time_file: None,
            reload_repeat: false,
            reload_file: None,
            include_check: None,
            config_save_dir: None,
            tmp_config_directory: None,
            data_use_instance: false,
        }
    }
}

/// `smtp_server HOST [PORT]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpServer {
    /// An IP address or a host name, as written.
    pub host: String,
    /// Port (default 25).
    pub port: u16,
}

/// `lvs_timeouts`: seconds, each up to 31 days.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LvsTimeouts {
    pub tcp: Option<u32>,
    pub tcpfin: Option<u32>,
    pub udp: Option<u32>,
}

/// `lvs_flush_on_stop`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LvsFlushOnStop {
    /// Not configured.
    #[default]
    None,
    /// `lvs_flush_on_stop`: remove every virtual server.
    Full,
    /// `lvs_flush_on_stop VS`: remove only the virtual servers we configured.
    Vs,
}

/// `lvs_sync_daemon`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LvsSyncDaemon {
    pub interface: String,
    /// `inst NAME` (or the legacy second word): the VRRP instance it follows.
    pub instance: Option<String>,
    /// `id N` (0..=255); `None` = the instance's VRID.
    pub id: Option<u8>,
    pub maxlen: Option<u16>,
    pub port: Option<u16>,
    pub ttl: Option<u8>,
    /// `group ADDR`: a multicast address.
    pub group: Option<std::net::IpAddr>,
    pub span: Span,
}

/// `vrrp_rx_bufs_policy`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RxBufsPolicy {
    pub mtu: bool,
    pub advert: bool,
    /// An explicit buffer size.
    pub size: Option<u32>,
}

/// A notify FIFO and the script that reads it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NotifyFifo {
    /// The FIFO path.
    pub name: Option<String>,
    /// The `USER [GROUP]` words after the name (owner of the FIFO).
    pub user: Option<String>,
    pub group: Option<String>,
    /// Index in `script_user_log` when the FIFO took the default user.
    pub user_event: Option<usize>,
    pub span: Option<Span>,
    /// `*notify_fifo_script`.
    pub script: Option<Script>,
}

/// `reload_file`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReloadFile {
    /// No file given: keepalived's default path.
    Default,
    Path(String),
}

/// `include_check`: which include problems are checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IncludeCheck {
    pub read: bool,
    pub match_: bool,
    pub wildcard_match: bool,
    pub brace_match: bool,
}

/// Something that sets or uses keepalived's default script user, in parse order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptUserEvent {
    /// `script_user USER [GROUP]` (keepalived's set_default_script_user()).
    Set {
        user: String,
        group: Option<String>,
        span: Span,
    },
    /// A script (or FIFO) without a user took the default (keepalived's
    /// get_default_script_user()); `security` is whether enable_script_security had
    /// been seen by then; `domain` is the keepalived reading pass it happens in.
    Use {
        span: Span,
        security: bool,
        domain: ScriptDomain,
    },
}

/// Which of keepalived's reading passes a script belongs to. `keepalived -t` reads the
/// file once per process type, in this order: global_defs only (parent), then the
/// checker keywords, then the VRRP keywords, then BFD. The default script user is
/// settled by the first use in that order, not in file order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ScriptDomain {
    /// global_defs: startup/shutdown scripts, notify FIFOs.
    Global,
    /// virtual_server / real_server / MISC_CHECKER scripts.
    Checker,
    /// vrrp_script, vrrp_instance and vrrp_sync_group scripts.
    #[default]
    Vrrp,
    /// BFD (no scripts today).
    Bfd,
}

/// Accumulated result of script checks (keepalived's `script_flags`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScriptAudit {
    /// Some script exists and would be run (SC_ISSCRIPT).
    pub any_script: bool,
    /// Some script's path is writable by non-root (SC_INSECURE).
    pub any_insecure: bool,
    /// The SECURITY VIOLATION report was already made.
    pub reported: bool,
    /// A script run by another uid/gid than keepalived's was checked. keepalived 2.2.7
    /// then kills itself with SIGTERM while checking it in `-t` mode (its "parent died"
    /// check after `realpath()` compares against a main pid that is unset), so
    /// `keepalived -t` ends there with exit status 143 (128 + SIGTERM).
    pub config_test_killed: bool,
}
