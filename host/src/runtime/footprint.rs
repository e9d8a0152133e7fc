//! What one instance of a component takes from the pooling allocator's
//! per-component limits: core instances, linear memories and tables, counted
//! from the bytes before compiling, the way wasmtime counts them (every core
//! module instantiation, nested components' included, once per
//! instantiation; memories and tables that the instantiated modules define).
//! A component over a limit is refused with its count and the `[engine]`
//! setting to raise, and so is one wasmtime's own pool checks refuse.

use super::engine::Runtime;
use super::error::LoadErrorKind;
use super::options::{Allocator, PerComponent};
use wasmparser::{
    ComponentAlias, ComponentExternalKind, ComponentInstance, ComponentOuterAliasKind,
    ComponentTypeRef, Encoding, Instance, Parser, Payload,
};

/// The pool-limited items one instance of a component holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Footprint {
    /// Core module instances.
    pub core_instances: u32,
    /// Linear memories the instantiated modules define (imports not counted).
    pub memories: u32,
    /// Tables the instantiated modules define.
    pub tables: u32,
}

impl Footprint {
    fn add(&mut self, other: Footprint) {
        self.core_instances = self.core_instances.saturating_add(other.core_instances);
        self.memories = self.memories.saturating_add(other.memories);
        self.tables = self.tables.saturating_add(other.tables);
    }

    /// Instantiating a module whose contents are unknown (imported or aliased
    /// from an instance): one instance, as wasmtime counts it.
    const OPAQUE_MODULE: Footprint = Footprint {
        core_instances: 1,
        memories: 0,
        tables: 0,
    };
}

/// One component or core module being read, innermost last.
enum Frame {
    Component {
        /// The core module index space: what instantiating each costs.
        modules: Vec<Footprint>,
        /// The component index space: what instantiating each costs.
        components: Vec<Footprint>,
        /// What this component's own instantiations add up to.
        total: Footprint,
    },
    Module(Footprint),
}

impl Frame {
    fn component() -> Self {
        Frame::Component {
            modules: Vec::new(),
            components: Vec::new(),
            total: Footprint::default(),
        }
    }
}

/// Counts the footprint of the component in `bytes`. `None` when the bytes
/// are not a well-formed component (compiling reports why).
pub fn footprint(bytes: &[u8]) -> Option<Footprint> {
    let mut stack: Vec<Frame> = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.ok()? {
            Payload::Version { encoding, .. } if stack.is_empty() => match encoding {
                Encoding::Component => stack.push(Frame::component()),
                Encoding::Module => return None,
            },
            Payload::ModuleSection { .. } => stack.push(Frame::Module(Footprint::OPAQUE_MODULE)),
            Payload::ComponentSection { .. } => stack.push(Frame::component()),
            Payload::MemorySection(reader) => {
                if let Some(Frame::Module(m)) = stack.last_mut() {
                    m.memories = m.memories.saturating_add(reader.count());
                }
            }
            Payload::TableSection(reader) => {
                if let Some(Frame::Module(m)) = stack.last_mut() {
                    m.tables = m.tables.saturating_add(reader.count());
                }
            }
            Payload::End(_) => {
                let done = match stack.pop()? {
                    Frame::Module(m) => Defined::Module(m),
                    Frame::Component { total, .. } => Defined::Component(total),
                };
                match (stack.last_mut(), done) {
                    (None, Defined::Component(total)) => return Some(total),
                    (None, Defined::Module(_)) => return None,
                    (Some(Frame::Component { modules, .. }), Defined::Module(m)) => modules.push(m),
                    (Some(Frame::Component { components, .. }), Defined::Component(c)) => {
                        components.push(c)
                    }
                    (Some(Frame::Module(_)), _) => return None,
                }
            }
            Payload::InstanceSection(reader) => {
                let Some(Frame::Component { modules, total, .. }) = stack.last_mut() else {
                    return None;
                };
                for instance in reader {
                    if let Instance::Instantiate { module_index, .. } = instance.ok()? {
                        total.add(*modules.get(module_index as usize)?);
                    }
                }
            }
            Payload::ComponentInstanceSection(reader) => {
                let Some(Frame::Component {
                    components, total, ..
                }) = stack.last_mut()
                else {
                    return None;
                };
                for instance in reader {
                    if let ComponentInstance::Instantiate {
                        component_index, ..
                    } = instance.ok()?
                    {
                        total.add(*components.get(component_index as usize)?);
                    }
                }
            }
            Payload::ComponentImportSection(reader) => {
                for import in reader {
                    match import.ok()?.ty {
                        ComponentTypeRef::Module(_) => push(&mut stack, Sort::Module, None)?,
                        // An imported component's insides are unknown.
                        ComponentTypeRef::Component(_) => {
                            push(&mut stack, Sort::Component, Some(Footprint::default()))?
                        }
                        _ => {}
                    }
                }
            }
            // An export of a module or component is a new index for it.
            Payload::ComponentExportSection(reader) => {
                for export in reader {
                    let export = export.ok()?;
                    let sort = match export.kind {
                        ComponentExternalKind::Module => Sort::Module,
                        ComponentExternalKind::Component => Sort::Component,
                        _ => continue,
                    };
                    let same = lookup(&stack, 0, sort, export.index)?;
                    push(&mut stack, sort, Some(same))?;
                }
            }
            Payload::ComponentAliasSection(reader) => {
                for alias in reader {
                    match alias.ok()? {
                        ComponentAlias::InstanceExport { kind, .. } => match kind {
                            ComponentExternalKind::Module => push(&mut stack, Sort::Module, None)?,
                            ComponentExternalKind::Component => {
                                push(&mut stack, Sort::Component, Some(Footprint::default()))?
                            }
                            _ => {}
                        },
                        ComponentAlias::Outer { kind, count, index } => {
                            let sort = match kind {
                                ComponentOuterAliasKind::CoreModule => Sort::Module,
                                ComponentOuterAliasKind::Component => Sort::Component,
                                _ => continue,
                            };
                            let outer = lookup(&stack, count, sort, index)?;
                            push(&mut stack, sort, Some(outer))?;
                        }
                        ComponentAlias::CoreInstanceExport { .. } => {}
                    }
                }
            }
            _ => {}
        }
    }
    None
}

enum Defined {
    Module(Footprint),
    Component(Footprint),
}

#[derive(Clone, Copy)]
enum Sort {
    Module,
    Component,
}

/// Adds an index to the innermost component's space for `sort`; `None` for
/// the footprint means an opaque module.
fn push(stack: &mut [Frame], sort: Sort, footprint: Option<Footprint>) -> Option<()> {
    let Some(Frame::Component {
        modules,
        components,
        ..
    }) = stack.last_mut()
    else {
        return None;
    };
    match sort {
        Sort::Module => modules.push(footprint.unwrap_or(Footprint::OPAQUE_MODULE)),
        Sort::Component => components.push(footprint.unwrap_or_default()),
    }
    Some(())
}

/// The footprint at `index` of `sort`'s space in the component `count`
/// levels out from the innermost.
fn lookup(stack: &[Frame], count: u32, sort: Sort, index: u32) -> Option<Footprint> {
    let components = stack
        .iter()
        .rev()
        .filter(|f| matches!(f, Frame::Component { .. }));
    let Frame::Component {
        modules,
        components,
        ..
    } = components.clone().nth(count as usize)?
    else {
        return None;
    };
    let space = match sort {
        Sort::Module => modules,
        Sort::Component => components,
    };
    space.get(index as usize).copied()
}

impl Footprint {
    /// The first of its counts over `limits`, as the load error naming the
    /// setting that raises it.
    pub fn check(&self, limits: &PerComponent) -> Result<(), LoadErrorKind> {
        let counts = [
            (
                self.core_instances,
                limits.core_instances,
                "core instances",
                "core_instances_per_component",
            ),
            (
                self.memories,
                limits.memories,
                "memories",
                "memories_per_component",
            ),
            (self.tables, limits.tables, "tables", "tables_per_component"),
        ];
        match counts.into_iter().find(|(found, limit, ..)| found > limit) {
            Some((found, limit, what, setting)) => Err(LoadErrorKind::PoolLimit {
                what,
                found: found.into(),
                limit: limit.into(),
                setting,
            }),
            None => Ok(()),
        }
    }
}

impl Runtime {
    /// Refuses, before compiling, a component that a pooled instance cannot
    /// hold. Bytes that are no component pass: compiling says why.
    pub(super) fn fit_pool(&self, bytes: &[u8]) -> Result<(), LoadErrorKind> {
        if self.options.allocator != Allocator::Pooling {
            return Ok(());
        }
        match footprint(bytes) {
            Some(footprint) => footprint.check(&self.options.per_component),
            None => Ok(()),
        }
    }
}

/// wasmtime's own pool refusals (from compiling or instantiating), by a
/// phrase of their text: what is counted and the setting that raises it.
const REFUSALS: [(&str, &str, &str); 5] = [
    (
        "core module instances, which exceeds",
        "core instances",
        "core_instances_per_component",
    ),
    (
        "Wasm linear memories, which exceeds",
        "memories",
        "memories_per_component",
    ),
    (
        "tables, which exceeds the configured maximum",
        "tables",
        "tables_per_component",
    ),
    (
        "memory has a minimum byte size of",
        "bytes of initial memory",
        "memory_mib",
    ),
    (
        "has a minimum element size of",
        "table elements",
        "table_elements",
    ),
];

/// wasmtime's error, when it is a pool limit: the same typed error as a
/// count over the limit, with the figures its text gives (the last two
/// numbers of its sentence: found, then limit).
pub fn pool_refusal(error: &str) -> Option<LoadErrorKind> {
    let (phrase, what, setting) = REFUSALS.into_iter().find(|(p, ..)| error.contains(p))?;
    let at = error.find(phrase)?;
    let start = error[..at].rfind(": ").map_or(0, |i| i + 2);
    let end = error[at..].find(": ").map_or(error.len(), |i| at + i);
    // wasmtime prints some sizes in hex (`0x10000000`).
    let numbers: Vec<u64> = error[start..end]
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter_map(|n| match n.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16).ok(),
            None => n.parse().ok(),
        })
        .collect();
    let [.., found, limit] = numbers[..] else {
        return None;
    };
    Some(LoadErrorKind::PoolLimit {
        what,
        found,
        limit,
        setting,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(wat: &str) -> Footprint {
        footprint(&wat::parse_str(wat).unwrap()).unwrap()
    }

    #[test]
    fn each_instantiation_of_a_module_counts_with_what_it_defines() {
        let found = of(r#"(component
              (core module $m (memory 1) (table 1 funcref) (table 1 funcref))
              (core module $n (import "m" "mem" (memory 1)))
              (core instance $a (instantiate $m))
              (core instance $b (instantiate $m))
              (core instance (instantiate $n (with "m" (instance $a))))
            )"#);
        assert_eq!(
            found,
            Footprint {
                core_instances: 3,
                memories: 2,
                tables: 4
            }
        );
    }

    #[test]
    fn a_nested_component_counts_once_per_instantiation_and_not_when_unused() {
        let found = of(r#"(component
              (core module $m (memory 1))
              (component $inner
                (core module $x (table 1 funcref))
                (core instance (instantiate $x))
                (core instance (instantiate $x))
              )
              (component $unused
                (core module $y)
                (core instance (instantiate $y))
              )
              (instance (instantiate $inner))
              (instance (instantiate $inner))
              (core instance (instantiate $m))
            )"#);
        assert_eq!(
            found,
            Footprint {
                core_instances: 5,
                memories: 1,
                tables: 4
            }
        );
    }

    #[test]
    fn a_module_aliased_from_the_outer_component_counts_what_it_defines() {
        let found = of(r#"(component
              (core module $m (memory 1))
              (component $inner
                (alias outer 1 $m (core module $m2))
                (core instance (instantiate $m2))
              )
              (instance (instantiate $inner))
            )"#);
        assert_eq!(
            found,
            Footprint {
                core_instances: 1,
                memories: 1,
                tables: 0
            }
        );
    }

    #[test]
    fn the_first_count_over_its_limit_names_its_setting() {
        let limits = PerComponent {
            core_instances: 4,
            memories: 1,
            tables: 1,
        };
        let within = Footprint {
            core_instances: 4,
            memories: 1,
            tables: 1,
        };
        assert_eq!(within.check(&limits), Ok(()));
        let over = Footprint {
            memories: 2,
            tables: 3,
            ..within
        };
        assert_eq!(
            over.check(&limits),
            Err(LoadErrorKind::PoolLimit {
                what: "memories",
                found: 2,
                limit: 1,
                setting: "memories_per_component"
            })
        );
    }

    #[test]
    fn wasmtimes_pool_refusals_read_as_pool_limits() {
        let text = "failed to compile: The component transitively contains 14 core module \
                    instances, which exceeds the configured maximum of 8 in the pooling allocator";
        assert_eq!(
            pool_refusal(text),
            Some(LoadErrorKind::PoolLimit {
                what: "core instances",
                found: 14,
                limit: 8,
                setting: "core_instances_per_component"
            })
        );
        let text = "module table does not fit in pooling allocator requirements: table index 0 \
                    has a minimum element size of 30000 which exceeds the limit of 20000";
        assert!(matches!(
            pool_refusal(text),
            Some(LoadErrorKind::PoolLimit {
                found: 30000,
                limit: 20000,
                setting: "table_elements",
                ..
            })
        ));
        assert_eq!(
            pool_refusal("unknown import: `x` has not been defined"),
            None
        );
    }

    #[test]
    fn bytes_that_are_no_component_have_no_footprint() {
        assert_eq!(footprint(b"hello"), None);
        assert_eq!(footprint(&wat::parse_str("(module)").unwrap()), None);
    }
}
