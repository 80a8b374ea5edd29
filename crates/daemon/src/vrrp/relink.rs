//! A VMAC's lower device deleted and created again (same name, new ifindex): the
//! VMAC died with it and could not be recreated then; when the device is back and up,
//! the instances move to its new index and the VMAC is created on it (keepalived
//! follows interfaces by name and recreates its VMACs when the base interface
//! returns).

use tracing::info;

use super::VrrpRuntime;

impl VrrpRuntime {
    /// `ifindex`/`name` came up: if it is the lower device of VMACs we lost, under a
    /// new index, re-point everything at it and recreate those VMACs.
    pub(super) async fn lower_link_returned(&mut self, ifindex: u32, name: &str) {
        let orphans: Vec<(u32, u32)> = self
            .vmacs
            .iter()
            .filter(|(_, spec)| spec.parent.name == name && spec.parent.index != ifindex)
            .map(|(vmac, spec)| (vmac.index, spec.parent.index))
            .collect();
        if orphans.is_empty() {
            return;
        }
        info!("Interface {name} is back (index {ifindex}) - recreating its VMACs");
        for (_, old_parent) in &orphans {
            for (_, spec) in self.vmacs.iter_mut() {
                if spec.parent.index == *old_parent {
                    spec.parent.index = ifindex;
                }
            }
            for (i, inst) in self.instances.iter_mut().enumerate() {
                let mut touched = false;
                if inst.interface.index == *old_parent {
                    inst.interface.index = ifindex;
                    touched = true;
                }
                if inst.xmit.index == *old_parent {
                    inst.xmit.index = ifindex;
                    touched = true;
                }
                for vip in inst
                    .addresses
                    .iter_mut()
                    .filter(|v| v.spec.ifindex == *old_parent)
                {
                    vip.spec.ifindex = ifindex;
                }
                if touched && let Some(down) = self.down_links.get_mut(i) {
                    down.remove(old_parent);
                }
            }
            self.link_names.insert(ifindex, name.to_string());
        }
        for (vmac, _) in orphans {
            self.recreate_vmac(vmac).await;
        }
    }
}
