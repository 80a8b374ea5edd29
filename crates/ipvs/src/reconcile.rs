//! Reconciliation: bring the kernel's IPVS table to a desired table with the
//! fewest operations, touching only what changed.
//!
//! * [`Table`] is a snapshot of services and their real servers, either read
//!   from the kernel ([`Table::read`]) or built by a caller as the desired
//!   state ([`DesiredTable`], which adds where each service came from, for
//!   error messages).
//! * [`plan`] is pure: it diffs desired against current and returns ordered
//!   [`Op`]s. Unchanged services and destinations get no operation (their
//!   connection counters survive a reload); nothing is ever flushed and
//!   re-added. [`Op::apply_to`] replays an operation on a [`Table`] with the
//!   kernel's rules, which is how the host tests check `plan`.
//! * [`Reconciler`] remembers what it manages ([`Owned`]): entries it added,
//!   or found already present because the desired table names them. Only
//!   those are ever removed, on reload or at exit ([`Release`]); foreign
//!   services and real servers that the desired table never named are left
//!   alone (keepalived likewise never touches what is not in its
//!   configuration, unless `lvs_flush`). Removing a managed service takes any
//!   foreign real servers inside it along (kernel semantics, as keepalived).
//! * [`Kernel`] is where operations go: [`Ipvs`] or a [`SimulatedKernel`]
//!   (in-memory, the kernel's EEXIST/ENOENT answers) for tests and dry runs.
//!   Failures are collected per operation ([`ApplyReport`]) and never stop
//!   the rest; like keepalived, adding what exists and deleting what is gone
//!   count as done, and editing a vanished real server adds it back.
//!
//! Order of the operations (keepalived does the same when quorum changes:
//! remove first, then add): destinations to remove, services to remove,
//! services to add or edit, destinations to edit, destinations to add.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::{Dest, DestKey, Errno, Error, Ipvs, IpvsCmd, Service, ServiceKey, Target};

/// One virtual service with its real servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableService {
    pub service: Service,
    pub dests: BTreeMap<DestKey, Dest>,
}

impl TableService {
    pub fn new(service: Service) -> Self {
        TableService {
            service,
            dests: BTreeMap::new(),
        }
    }

    /// Adds or replaces the real server with `dest`'s key.
    pub fn insert_dest(&mut self, dest: Dest) {
        self.dests.insert(dest.key(), dest);
    }
}

/// A set of services and real servers, keyed like the kernel keys them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub services: BTreeMap<ServiceKey, TableService>,
}

/// Services with their real servers; a repeated service key keeps the last
/// service and the real servers of all its entries, as `insert_service` does.
impl<D: IntoIterator<Item = Dest>> FromIterator<(Service, D)> for Table {
    fn from_iter<I: IntoIterator<Item = (Service, D)>>(entries: I) -> Self {
        let mut table = Table::default();
        for (service, dests) in entries {
            let entry = table.insert_service(service);
            for dest in dests {
                entry.insert_dest(dest);
            }
        }
        table
    }
}

impl Table {
    /// The kernel's table: one service dump plus one destination dump per
    /// service.
    pub fn read(ipvs: &mut Ipvs) -> Result<Table, Error> {
        let mut table = Table::default();
        for service in ipvs.services()? {
            let key = service.key;
            let mut entry = TableService::new(service);
            for dest in ipvs.dests(&key)? {
                entry.insert_dest(dest);
            }
            table.services.insert(key, entry);
        }
        Ok(table)
    }

    /// Adds or replaces a service, keeping the real servers already there.
    pub fn insert_service(&mut self, service: Service) -> &mut TableService {
        let entry = self
            .services
            .entry(service.key)
            .or_insert_with(|| TableService::new(service.clone()));
        entry.service = service;
        entry
    }

    pub fn dest_count(&self) -> usize {
        self.services.values().map(|s| s.dests.len()).sum()
    }

    /// Whether both tables hold the same configuration (statistics,
    /// counters and the kernel's `HASHED` flag ignored).
    pub fn same_config(&self, other: &Table) -> bool {
        self.services.len() == other.services.len()
            && self.services.iter().all(|(key, mine)| {
                other.services.get(key).is_some_and(|theirs| {
                    mine.service.same_config(&theirs.service)
                        && mine.dests.len() == theirs.dests.len()
                        && mine.dests.iter().all(|(dkey, dest)| {
                            theirs.dests.get(dkey).is_some_and(|d| dest.same_config(d))
                        })
                })
            })
    }
}

/// The desired table plus, per service, a description of where it comes
/// from (e.g. the configuration line), used in failure reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DesiredTable {
    pub table: Table,
    pub origins: BTreeMap<ServiceKey, String>,
}

impl DesiredTable {
    pub fn origin(&self, key: &ServiceKey) -> Option<&str> {
        self.origins.get(key).map(String::as_str)
    }
}

impl From<Table> for DesiredTable {
    fn from(table: Table) -> Self {
        DesiredTable {
            table,
            origins: BTreeMap::new(),
        }
    }
}

/// One kernel operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    AddService(Service),
    EditService(Service),
    DelService(ServiceKey),
    AddDest(ServiceKey, Dest),
    EditDest(ServiceKey, Dest),
    DelDest(ServiceKey, DestKey),
    /// Removes every service (keepalived's `lvs_flush`, `lvs_flush_on_stop`);
    /// [`plan`] never produces it.
    Flush,
}

impl Op {
    /// The service the operation concerns (`None` for [`Op::Flush`]).
    pub fn service_key(&self) -> Option<&ServiceKey> {
        match self {
            Op::AddService(s) | Op::EditService(s) => Some(&s.key),
            Op::DelService(key)
            | Op::AddDest(key, _)
            | Op::EditDest(key, _)
            | Op::DelDest(key, _) => Some(key),
            Op::Flush => None,
        }
    }

    /// Replays the operation on `table` with the kernel's rules: adding what
    /// exists or changing/removing what does not is refused.
    pub fn apply_to(&self, table: &mut Table) -> Result<(), TableError> {
        match self {
            Op::AddService(service) => {
                if table.services.contains_key(&service.key) {
                    return Err(TableError::Exists(service.key));
                }
                table.insert_service(service.clone());
            }
            Op::EditService(service) => {
                table
                    .services
                    .get_mut(&service.key)
                    .ok_or(missing("service", &service.key))?
                    .service = service.clone();
            }
            Op::DelService(key) => {
                table.services.remove(key).ok_or(missing("service", key))?;
            }
            Op::AddDest(key, dest) => {
                let entry = table.services.get_mut(key).ok_or(missing("service", key))?;
                if entry.dests.contains_key(&dest.key()) {
                    return Err(TableError::Exists(*key));
                }
                entry.insert_dest(dest.clone());
            }
            Op::EditDest(key, dest) => {
                let entry = table.services.get_mut(key).ok_or(missing("service", key))?;
                let slot = entry
                    .dests
                    .get_mut(&dest.key())
                    .ok_or(missing("real server", key))?;
                *slot = dest.clone();
            }
            Op::DelDest(key, dest) => {
                let entry = table.services.get_mut(key).ok_or(missing("service", key))?;
                entry
                    .dests
                    .remove(dest)
                    .ok_or(missing("real server", key))?;
            }
            Op::Flush => table.services.clear(),
        }
        Ok(())
    }

    /// The IPVS command that carries the operation.
    pub fn cmd(&self) -> IpvsCmd {
        match self {
            Op::AddService(_) => IpvsCmd::NewService,
            Op::EditService(_) => IpvsCmd::SetService,
            Op::DelService(_) => IpvsCmd::DelService,
            Op::AddDest(..) => IpvsCmd::NewDest,
            Op::EditDest(..) => IpvsCmd::SetDest,
            Op::DelDest(..) => IpvsCmd::DelDest,
            Op::Flush => IpvsCmd::Flush,
        }
    }

    /// The object of the operation, as [`Error`]s name it.
    pub fn target(&self) -> Target {
        match self {
            Op::AddService(s) | Op::EditService(s) => Target::Service(s.key),
            Op::DelService(key) => Target::Service(*key),
            Op::AddDest(key, d) | Op::EditDest(key, d) => Target::Dest(*key, d.key()),
            Op::DelDest(key, d) => Target::Dest(*key, *d),
            Op::Flush => Target::None,
        }
    }

    /// Sends the operation to the kernel.
    pub fn execute(&self, ipvs: &mut Ipvs) -> Result<(), Error> {
        match self {
            Op::AddService(service) => ipvs.add_service(service),
            Op::EditService(service) => ipvs.edit_service(service),
            Op::DelService(key) => ipvs.del_service(key),
            Op::AddDest(key, dest) => ipvs.add_dest(key, dest),
            Op::EditDest(key, dest) => ipvs.edit_dest(key, dest),
            Op::DelDest(key, dest) => ipvs.del_dest(key, dest),
            Op::Flush => ipvs.flush(),
        }
    }
}

/// Formats like the ipvsadm command that does the same.
impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::AddService(s) => write!(f, "add service {} ({})", s.key, s.scheduler),
            Op::EditService(s) => write!(f, "edit service {} ({})", s.key, s.scheduler),
            Op::DelService(key) => write!(f, "delete service {key}"),
            Op::AddDest(key, d) => {
                write!(f, "add {} to {key} (weight {})", d.key(), d.weight)
            }
            Op::EditDest(key, d) => {
                write!(f, "edit {} of {key} (weight {})", d.key(), d.weight)
            }
            Op::DelDest(key, dest) => write!(f, "delete {dest} from {key}"),
            Op::Flush => f.write_str("flush"),
        }
    }
}

fn missing(what: &'static str, key: &ServiceKey) -> TableError {
    TableError::Missing(what, *key)
}

/// Why [`Op::apply_to`] refused an operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    #[error("{0}: already exists")]
    Exists(ServiceKey),
    #[error("{1}: no such {0}")]
    Missing(&'static str, ServiceKey),
}

/// Where a [`Reconciler`] reads the table and sends operations: the real
/// kernel ([`Ipvs`]) or a [`SimulatedKernel`].
pub trait Kernel {
    fn read_table(&mut self) -> Result<Table, Error>;
    fn execute(&mut self, op: &Op) -> Result<(), Error>;
}

impl Kernel for Ipvs {
    fn read_table(&mut self) -> Result<Table, Error> {
        Table::read(self)
    }

    fn execute(&mut self, op: &Op) -> Result<(), Error> {
        op.execute(self)
    }
}

/// An in-memory IPVS table that answers like the kernel (`EEXIST`,
/// `ESRCH`/`ENOENT`, unknown scheduler modules), for tests and dry runs.
#[derive(Debug, Clone, Default)]
pub struct SimulatedKernel {
    pub table: Table,
    /// Every operation it accepted, in order.
    pub accepted: Vec<Op>,
    /// Scheduler names it has no module for (adding or editing a service
    /// with one fails with `ENOENT`, as `ip_vs` does).
    pub missing_schedulers: BTreeSet<String>,
}

impl SimulatedKernel {
    pub fn new(table: Table) -> Self {
        SimulatedKernel {
            table,
            ..SimulatedKernel::default()
        }
    }
}

impl Kernel for SimulatedKernel {
    fn read_table(&mut self) -> Result<Table, Error> {
        Ok(self.table.clone())
    }

    fn execute(&mut self, op: &Op) -> Result<(), Error> {
        if let Op::AddService(s) | Op::EditService(s) = op
            && self.missing_schedulers.contains(&s.scheduler)
        {
            return Err(Error::from_kernel(op.cmd(), op.target(), Errno::ENOENT));
        }
        op.apply_to(&mut self.table).map_err(|e| {
            let errno = match e {
                TableError::Exists(_) => Errno::EEXIST,
                TableError::Missing("service", _) => Errno::ESRCH,
                TableError::Missing(..) => Errno::ENOENT,
            };
            Error::from_kernel(op.cmd(), op.target(), errno)
        })?;
        self.accepted.push(op.clone());
        Ok(())
    }
}

/// What a [`Reconciler`] manages: per service, the real servers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Owned {
    pub services: BTreeMap<ServiceKey, BTreeSet<DestKey>>,
}

impl Owned {
    pub fn is_empty(&self) -> bool {
        self.services.is_empty()
    }

    fn owns_dest(&self, service: &ServiceKey, dest: &DestKey) -> bool {
        self.services
            .get(service)
            .is_some_and(|dests| dests.contains(dest))
    }
}

/// The operations that turn `current` into `desired`, touching only what
/// differs. Entries of `current` that `desired` lacks are removed only when
/// `owned` names them; a removed owned service takes its real servers with
/// it (one operation).
pub fn plan(desired: &Table, current: &Table, owned: &Owned) -> Vec<Op> {
    let mut del_dests = Vec::new();
    let mut del_services = Vec::new();
    let mut services = Vec::new();
    let mut edit_dests = Vec::new();
    let mut add_dests = Vec::new();

    for (key, dests) in &owned.services {
        let Some(now) = current.services.get(key) else {
            continue;
        };
        match desired.services.get(key) {
            None => del_services.push(Op::DelService(*key)),
            Some(want) => del_dests.extend(
                dests
                    .iter()
                    .filter(|d| now.dests.contains_key(d) && !want.dests.contains_key(d))
                    .map(|d| Op::DelDest(*key, *d)),
            ),
        }
    }

    for (key, want) in &desired.services {
        match current.services.get(key) {
            None => {
                services.push(Op::AddService(want.service.clone()));
                add_dests.extend(want.dests.values().map(|d| Op::AddDest(*key, d.clone())));
            }
            Some(now) => {
                if !want.service.same_config(&now.service) {
                    services.push(Op::EditService(want.service.clone()));
                }
                for (dkey, dest) in &want.dests {
                    match now.dests.get(dkey) {
                        None => add_dests.push(Op::AddDest(*key, dest.clone())),
                        Some(have) if !dest.same_config(have) => {
                            edit_dests.push(Op::EditDest(*key, dest.clone()))
                        }
                        Some(_) => {}
                    }
                }
            }
        }
    }

    let mut ops = del_dests;
    ops.extend(del_services);
    ops.extend(services);
    ops.extend(edit_dests);
    ops.extend(add_dests);
    ops
}

/// An operation the kernel refused.
#[derive(Debug)]
pub struct OpFailure {
    pub op: Op,
    /// Where the service came from ([`DesiredTable::origins`]).
    pub origin: Option<String>,
    pub error: Error,
}

impl fmt::Display for OpFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.origin {
            Some(origin) => write!(f, "{origin}: {}: {}", self.op, self.error),
            None => write!(f, "{}: {}", self.op, self.error),
        }
    }
}

/// The outcome of applying a plan: failures do not stop the other
/// operations (one bad virtual server must not take the rest down).
#[derive(Debug, Default)]
pub struct ApplyReport {
    /// Operations the kernel accepted.
    pub applied: Vec<Op>,
    pub failed: Vec<OpFailure>,
    /// Destination operations not sent because their service could not be added.
    pub skipped: Vec<Op>,
}

impl ApplyReport {
    pub fn is_ok(&self) -> bool {
        self.failed.is_empty() && self.skipped.is_empty()
    }
}

/// Reading the kernel table failed before anything was changed.
#[derive(Debug, thiserror::Error)]
#[error("reading the IPVS table: {0}")]
pub struct ReadError(#[source] pub Error);

/// What to do with the managed entries at exit (keepalived's `-I`,
/// `lvs_flush_on_stop`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Release {
    /// Remove each managed real server, then each managed service
    /// (keepalived's default).
    #[default]
    Remove,
    /// `lvs_flush_on_stop VS`: remove each managed service; the kernel drops
    /// their real servers with them.
    ServicesOnly,
    /// `lvs_flush_on_stop`: one FLUSH of the whole table.
    Flush,
    /// `-I` / `--dont-release-ipvs`: leave everything in place.
    Keep,
}

/// Applies desired tables to the kernel, remembering what it manages.
#[derive(Debug, Clone, Default)]
pub struct Reconciler {
    owned: Owned,
}

impl Reconciler {
    pub fn new() -> Self {
        Reconciler::default()
    }

    /// What this reconciler manages (and will remove at exit).
    pub fn owned(&self) -> &Owned {
        &self.owned
    }

    /// The operations [`Reconciler::reconcile`] would send for `current`.
    pub fn plan(&self, desired: &Table, current: &Table) -> Vec<Op> {
        plan(desired, current, &self.owned)
    }

    /// Reads the kernel table, applies the difference to `desired`, and
    /// records what is now managed.
    pub fn reconcile<K: Kernel + ?Sized>(
        &mut self,
        kernel: &mut K,
        desired: &DesiredTable,
    ) -> Result<ApplyReport, ReadError> {
        let current = kernel.read_table().map_err(ReadError)?;
        Ok(self.reconcile_with(kernel, desired, &current))
    }

    /// As [`Reconciler::reconcile`] with a table the caller already read.
    pub fn reconcile_with<K: Kernel + ?Sized>(
        &mut self,
        kernel: &mut K,
        desired: &DesiredTable,
        current: &Table,
    ) -> ApplyReport {
        let ops = self.plan(&desired.table, current);
        let report = execute_all(kernel, ops, desired);
        self.record(&desired.table, current, &report);
        report
    }

    /// Updates [`Owned`] after a plan ran: every desired entry now in the
    /// kernel is managed; owned entries that could not be removed stay
    /// managed (next reconcile retries them).
    fn record(&mut self, desired: &Table, current: &Table, report: &ApplyReport) {
        let failed_add_services: BTreeSet<ServiceKey> = report
            .failed
            .iter()
            .filter_map(|f| match &f.op {
                Op::AddService(s) => Some(s.key),
                _ => None,
            })
            .collect();
        let failed_add_dests: BTreeSet<(ServiceKey, DestKey)> = report
            .failed
            .iter()
            .filter_map(|f| match &f.op {
                Op::AddDest(key, d) => Some((*key, d.key())),
                _ => None,
            })
            .collect();
        let failed_deletes: Vec<&Op> = report
            .failed
            .iter()
            .map(|f| &f.op)
            .filter(|op| matches!(op, Op::DelService(_) | Op::DelDest(..)))
            .collect();

        let mut owned = Owned::default();
        for (key, want) in &desired.services {
            if failed_add_services.contains(key) {
                continue;
            }
            let dests = owned.services.entry(*key).or_default();
            dests.extend(
                want.dests
                    .keys()
                    .filter(|d| !failed_add_dests.contains(&(*key, **d)))
                    .copied(),
            );
        }
        for op in failed_deletes {
            match op {
                Op::DelService(key) => {
                    if let Some(dests) = self.owned.services.get(key) {
                        let still = current
                            .services
                            .get(key)
                            .map(|s| {
                                dests
                                    .iter()
                                    .filter(|d| s.dests.contains_key(d))
                                    .copied()
                                    .collect::<BTreeSet<_>>()
                            })
                            .unwrap_or_default();
                        owned.services.entry(*key).or_default().extend(still);
                    }
                }
                Op::DelDest(key, dest) if self.owned.owns_dest(key, dest) => {
                    owned.services.entry(*key).or_default().insert(*dest);
                }
                _ => {}
            }
        }
        self.owned = owned;
    }

    /// Removes what this reconciler manages, as `mode` says, and forgets it.
    pub fn release<K: Kernel + ?Sized>(&mut self, kernel: &mut K, mode: Release) -> ApplyReport {
        let owned = std::mem::take(&mut self.owned);
        let ops: Vec<Op> = match mode {
            Release::Keep => return ApplyReport::default(),
            Release::Flush => vec![Op::Flush],
            Release::ServicesOnly => owned.services.keys().map(|k| Op::DelService(*k)).collect(),
            Release::Remove => owned
                .services
                .iter()
                .flat_map(|(key, dests)| {
                    dests
                        .iter()
                        .map(|d| Op::DelDest(*key, *d))
                        .chain(std::iter::once(Op::DelService(*key)))
                })
                .collect(),
        };
        execute_all(kernel, ops, &DesiredTable::default())
    }
}

/// Sends `ops` in order. keepalived's tolerance is kept: adding what exists
/// and removing what is gone count as done, and editing a vanished real
/// server adds it back.
fn execute_all<K: Kernel + ?Sized>(
    kernel: &mut K,
    ops: Vec<Op>,
    desired: &DesiredTable,
) -> ApplyReport {
    let mut report = ApplyReport::default();
    let mut unavailable: BTreeSet<ServiceKey> = BTreeSet::new();
    for op in ops {
        let key = op.service_key().copied();
        if key.is_some_and(|k| unavailable.contains(&k))
            && matches!(op, Op::AddDest(..) | Op::EditDest(..))
        {
            report.skipped.push(op);
            continue;
        }
        let outcome = match kernel.execute(&op) {
            Err(Error::AlreadyExists { .. })
                if matches!(op, Op::AddService(_) | Op::AddDest(..)) =>
            {
                Ok(())
            }
            Err(Error::NotFound { .. }) if matches!(op, Op::DelService(_) | Op::DelDest(..)) => {
                Ok(())
            }
            Err(Error::NotFound { .. }) if matches!(op, Op::EditDest(..)) => match &op {
                Op::EditDest(key, dest) => kernel.execute(&Op::AddDest(*key, dest.clone())),
                _ => Ok(()),
            },
            other => other,
        };
        match outcome {
            Ok(()) => report.applied.push(op),
            Err(error) => {
                if let (Op::AddService(_), Some(key)) = (&op, key) {
                    unavailable.insert(key);
                }
                report.failed.push(OpFailure {
                    origin: key.and_then(|k| desired.origin(&k)).map(str::to_owned),
                    op,
                    error,
                });
            }
        }
    }
    report
}
