//! The structural limits: the component is validated with `wasmparser` and
//! each function measured as it goes, before cranelift sees anything. A
//! compile's cost grows with its code and, per function, with the values
//! live across its blocks (the register allocator's work); those are what
//! is bounded. Cheap: the 12 MB JS component takes ~0.2 s.

use super::CompileLimits;
use crate::runtime::error::LoadErrorKind;
use wasmparser::{
    Encoding, FuncValidatorAllocations, Operator, Parser, Payload, ValidPayload, Validator,
    WasmFeatures,
};

/// The largest figures of a component, for the record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shape {
    /// Bytes of code of all core modules.
    pub code_bytes: u64,
    /// Functions defined.
    pub functions: u64,
    /// The largest function body.
    pub function_bytes: u64,
    /// The most locals of a function, parameters included.
    pub function_locals: u64,
    /// The largest (locals + operand stack) × blocks of a function.
    pub function_liveness: u64,
}

/// One function's figures.
struct Function {
    bytes: u64,
    locals: u64,
    stack: u64,
    blocks: u64,
}

impl Function {
    fn liveness(&self) -> u64 {
        (self.locals + self.stack).saturating_mul(self.blocks)
    }
}

/// Validates `bytes` and measures them against `limits`; the first limit
/// passed is the error.
pub fn check(bytes: &[u8], limits: &CompileLimits) -> Result<Shape, LoadErrorKind> {
    let corrupt = |e: wasmparser::BinaryReaderError| LoadErrorKind::Corrupt(e.to_string());
    let mut validator = Validator::new_with_features(WasmFeatures::all());
    let mut shape = Shape::default();
    let mut modules = 0u64;
    let mut allocations = FuncValidatorAllocations::default();
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(corrupt)?;
        match &payload {
            Payload::Version {
                encoding: Encoding::Module,
                ..
            } => modules += 1,
            Payload::CodeSectionStart { size, .. } => {
                shape.code_bytes += u64::from(*size);
                over(
                    "compile_max_code_bytes",
                    shape.code_bytes,
                    limits.code_bytes,
                    || format!("{} bytes of code", shape.code_bytes),
                )?;
            }
            _ => {}
        }
        let ValidPayload::Func(func, body) = validator.payload(&payload).map_err(corrupt)? else {
            continue;
        };
        shape.functions += 1;
        let index = func.index;
        let mut func = func.into_validator(std::mem::take(&mut allocations));
        let where_ = || format!("function {index} of core module {modules}");
        let mut f = Function {
            bytes: body.range().len() as u64,
            locals: 0,
            stack: 0,
            blocks: 0,
        };
        over(
            "compile_max_function_bytes",
            f.bytes,
            limits.function_bytes,
            || format!("{} is {} bytes", where_(), f.bytes),
        )?;
        let mut reader = body.get_binary_reader();
        func.read_locals(&mut reader).map_err(corrupt)?;
        f.locals = u64::from(func.len_locals());
        over(
            "compile_max_function_locals",
            f.locals,
            limits.function_locals,
            || format!("{} has {} locals", where_(), f.locals),
        )?;
        let mut operators = body.get_operators_reader().map_err(corrupt)?;
        while !operators.eof() {
            let offset = operators.original_position();
            let op = operators.read().map_err(corrupt)?;
            f.blocks += match &op {
                Operator::Block { .. }
                | Operator::Loop { .. }
                | Operator::If { .. }
                | Operator::Else
                | Operator::Try { .. }
                | Operator::TryTable { .. } => 1,
                // Each target is an edge that may need its own block.
                Operator::BrTable { targets } => u64::from(targets.len()),
                _ => 0,
            };
            func.op(offset, &op).map_err(corrupt)?;
            f.stack = f.stack.max(u64::from(func.operand_stack_height()));
            over(
                "compile_max_function_liveness",
                f.liveness(),
                limits.function_liveness,
                || {
                    format!(
                        "{} keeps ({} locals + {} on the operand stack) live across {} blocks, \
                         at least {}",
                        where_(),
                        f.locals,
                        f.stack,
                        f.blocks,
                        f.liveness()
                    )
                },
            )?;
        }
        shape.function_bytes = shape.function_bytes.max(f.bytes);
        shape.function_locals = shape.function_locals.max(f.locals);
        shape.function_liveness = shape.function_liveness.max(f.liveness());
        allocations = func.into_allocations();
    }
    Ok(shape)
}

/// The error when `found` is over `limit`.
fn over(
    setting: &'static str,
    found: u64,
    limit: u64,
    what: impl FnOnce() -> String,
) -> Result<(), LoadErrorKind> {
    if found <= limit {
        return Ok(());
    }
    Err(LoadErrorKind::CompileLimit {
        setting,
        limit: limit.to_string(),
        found: what(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::{BUILTINS, builtin_bytes};

    fn setting_of(result: Result<Shape, LoadErrorKind>) -> &'static str {
        match result {
            Err(LoadErrorKind::CompileLimit { setting, .. }) => setting,
            other => panic!("not a compile limit: {other:?}"),
        }
    }

    #[test]
    fn every_built_in_is_well_within_the_default_limits() {
        let limits = CompileLimits::default();
        for (name, bytes) in BUILTINS {
            let shape = check(bytes, &limits).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(shape.functions > 100, "{name}: {shape:?}");
            assert!(
                shape.code_bytes * 100 < limits.code_bytes,
                "{name}: {shape:?}"
            );
            assert!(
                shape.function_liveness * 100 < limits.function_liveness,
                "{name}: {shape:?}"
            );
        }
    }

    #[test]
    fn each_structural_limit_is_named_when_passed() {
        let bytes = builtin_bytes("freshness").unwrap();
        let with = |f: fn(&mut CompileLimits)| {
            let mut limits = CompileLimits::default();
            f(&mut limits);
            check(bytes, &limits)
        };
        assert_eq!(
            setting_of(with(|l| l.code_bytes = 1000)),
            "compile_max_code_bytes"
        );
        assert_eq!(
            setting_of(with(|l| l.function_bytes = 100)),
            "compile_max_function_bytes"
        );
        assert_eq!(
            setting_of(with(|l| l.function_locals = 3)),
            "compile_max_function_locals"
        );
        assert_eq!(
            setting_of(with(|l| l.function_liveness = 10)),
            "compile_max_function_liveness"
        );
    }

    /// A function with one local that pushes `depth` values, then opens
    /// `blocks` blocks over them.
    fn deep_stack(depth: usize, blocks: usize) -> Vec<u8> {
        let mut text = String::from("(module (func (param i32) (result i32)\n");
        text.push_str(&"local.get 0\n".repeat(depth));
        text.push_str(&"(block (br_if 0 (local.get 0)))\n".repeat(blocks));
        text.push_str(&"i32.add\n".repeat(depth - 1));
        text.push_str("))");
        wat::parse_str(text).unwrap()
    }

    #[test]
    fn values_kept_on_the_operand_stack_count_as_live() {
        let bytes = deep_stack(100, 20);
        let shape = check(&bytes, &CompileLimits::default()).unwrap();
        assert!(shape.function_liveness >= 100 * 20, "{shape:?}");
        let limits = CompileLimits {
            function_liveness: 1000,
            ..CompileLimits::default()
        };
        let err = check(&bytes, &limits).unwrap_err().to_string();
        assert!(
            err.contains("on the operand stack") && err.contains("compile_max_function_liveness"),
            "{err}"
        );
    }

    #[test]
    fn code_that_does_not_validate_is_corrupt_and_compiles_nothing() {
        let bytes = wat::parse_str("(module (func (result i32) i64.const 1))").unwrap();
        let err = check(&bytes, &CompileLimits::default()).unwrap_err();
        assert!(
            matches!(&err, LoadErrorKind::Corrupt(m) if m.contains("type mismatch")),
            "{err}"
        );
    }
}
