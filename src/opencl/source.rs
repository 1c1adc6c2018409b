//! Argument lists and the OpenCL C that PyOpenCL-style kernels expand to.

use super::OpenClError;
use super::types::ScalarType;

/// One parameter of a kernel's argument list: `const float *x` or `uint n`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Param {
    pub(crate) name: String,
    pub(crate) ty: ScalarType,
    /// A `__global` pointer (a buffer), as opposed to a scalar passed by value.
    pub(crate) pointer: bool,
    pub(crate) is_const: bool,
}

impl Param {
    /// The parameter as OpenCL C, with `__global` added to pointers, as PyOpenCL does.
    fn declaration(&self) -> String {
        let konst = if self.is_const { "const " } else { "" };
        if self.pointer {
            format!("__global {konst}{} *{}", self.ty.cl_name(), self.name)
        } else {
            format!("{konst}{} {}", self.ty.cl_name(), self.name)
        }
    }

    pub(crate) fn describe(&self) -> String {
        if self.pointer {
            format!("'{}' ({} *)", self.name, self.ty.cl_name())
        } else {
            format!("'{}' ({})", self.name, self.ty.cl_name())
        }
    }
}

/// Names a generated kernel reserves; a parameter may not take them, nor any name that starts
/// with `gilfree_` (every local of the generated code does).
const RESERVED: &[&str] = &["i"];

/// Parses PyOpenCL's argument string: `"const float *a, const float *b, float *c, float k"`.
///
/// Qualifiers `const`, `__global`/`global`, `restrict`/`__restrict` and `volatile` are accepted;
/// pointers become `__global` buffers. `__local`, `__constant`, images and vector types are
/// refused with a ValueError naming the argument.
pub(crate) fn parse_params(arguments: &str) -> Result<Vec<Param>, OpenClError> {
    let mut params = Vec::new();
    for raw in arguments.split(',') {
        let text = raw.trim();
        if text.is_empty() {
            if arguments.trim().is_empty() {
                break;
            }
            return Err(OpenClError::value_error(format!(
                "empty argument in {arguments:?}"
            )));
        }
        let spaced = text.replace('*', " * ");
        let mut words: Vec<&str> = spaced.split_whitespace().collect();
        let bad = |why: &str| OpenClError::value_error(format!("argument {text:?}: {why}"));
        let name = words.pop().ok_or_else(|| bad("no name"))?;
        if !is_identifier(name) {
            return Err(bad("the last word must be the argument's name"));
        }
        if RESERVED.contains(&name) || name.to_ascii_lowercase().starts_with("gilfree_") {
            return Err(bad("the name is reserved by the generated kernel"));
        }
        let mut pointer = false;
        let mut is_const = false;
        let mut ty_words = Vec::new();
        for word in words {
            match word {
                "*" if pointer => return Err(bad("pointers to pointers are not supported")),
                "*" => pointer = true,
                "const" => is_const = true,
                "__global" | "global" | "restrict" | "__restrict" | "volatile" => {}
                "__local" | "local" | "__constant" | "constant" | "__private" | "private" => {
                    return Err(bad("only __global buffers and scalars are supported"));
                }
                word if pointer => {
                    return Err(bad(&format!("unexpected {word:?} after '*'")));
                }
                word => ty_words.push(word),
            }
        }
        let ty_text = ty_words.join(" ");
        let ty = ScalarType::parse(&ty_text)
            .ok_or_else(|| bad(&format!("{ty_text:?} is not an OpenCL scalar type")))?;
        if params.iter().any(|p: &Param| p.name == name) {
            return Err(bad("the name is used twice"));
        }
        params.push(Param {
            name: name.to_string(),
            ty,
            pointer,
            is_const,
        });
    }
    Ok(params)
}

fn is_identifier(word: &str) -> bool {
    let mut chars = word.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

fn declarations(params: &[Param]) -> String {
    params
        .iter()
        .map(|p| format!("{}, ", p.declaration()))
        .collect()
}

/// `double` needs the fp64 extension switched on in OpenCL 1.x.
fn fp64_pragma(parts: &[&str], params: &[Param]) -> &'static str {
    let uses_double = params.iter().any(|p| p.ty == ScalarType::F64)
        || parts.iter().any(|part| part.contains("double"));
    if uses_double {
        "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n"
    } else {
        ""
    }
}

/// The kernel an [`ElementwiseKernel`](super::ElementwiseKernel) runs: `operation` once for
/// every `i` in `0..n`: one work item per index, the global size rounded up to a whole number
/// of work groups (the items past `n` do nothing).
pub(crate) const ELEMENTWISE_NAME: &str = "gilfree_elementwise";

pub(crate) fn elementwise_source(params: &[Param], operation: &str, preamble: &str) -> String {
    format!(
        "{pragma}{preamble}\n\
         __kernel void {ELEMENTWISE_NAME}({decls}const long gilfree_n) {{\n\
         \x20   const long i = get_global_id(0);\n\
         \x20   if (i < gilfree_n) {{\n\
         \x20       {operation};\n\
         \x20   }}\n\
         }}\n",
        pragma = fp64_pragma(&[operation, preamble], params),
        decls = declarations(params),
    )
}

/// The two kernels of a [`ReductionKernel`](super::ReductionKernel): the first folds
/// `map_expr` over the range into one partial result per work group, the second folds the
/// partials with the same `reduce_expr` in a single group.
pub(crate) const REDUCE_STAGE1: &str = "gilfree_reduce_stage1";
pub(crate) const REDUCE_STAGE2: &str = "gilfree_reduce_stage2";

pub(crate) struct Reduction<'a> {
    pub(crate) out: ScalarType,
    pub(crate) neutral: &'a str,
    pub(crate) reduce_expr: &'a str,
    pub(crate) map_expr: &'a str,
    pub(crate) preamble: &'a str,
    pub(crate) group_size: usize,
}

impl Reduction<'_> {
    fn stage(&self, name: &str, decls: &str, map_expr: &str) -> String {
        let t = self.out.cl_name();
        let wg = self.group_size;
        format!(
            "__kernel __attribute__((reqd_work_group_size({wg}, 1, 1)))\n\
             void {name}({decls}const long gilfree_n, __global {t} *gilfree_out) {{\n\
             \x20   __local {t} gilfree_scratch[{wg}];\n\
             \x20   const size_t gilfree_lid = get_local_id(0);\n\
             \x20   {t} gilfree_acc = ({t})({neutral});\n\
             \x20   for (long i = get_global_id(0); i < gilfree_n; i += get_global_size(0)) {{\n\
             \x20       gilfree_acc = GILFREE_REDUCE(gilfree_acc, ({map_expr}));\n\
             \x20   }}\n\
             \x20   gilfree_scratch[gilfree_lid] = gilfree_acc;\n\
             \x20   barrier(CLK_LOCAL_MEM_FENCE);\n\
             \x20   for (size_t gilfree_s = {wg} / 2; gilfree_s > 0; gilfree_s >>= 1) {{\n\
             \x20       if (gilfree_lid < gilfree_s) {{\n\
             \x20           gilfree_scratch[gilfree_lid] = GILFREE_REDUCE(gilfree_scratch[gilfree_lid], gilfree_scratch[gilfree_lid + gilfree_s]);\n\
             \x20       }}\n\
             \x20       barrier(CLK_LOCAL_MEM_FENCE);\n\
             \x20   }}\n\
             \x20   if (gilfree_lid == 0) {{\n\
             \x20       gilfree_out[get_group_id(0)] = gilfree_scratch[0];\n\
             \x20   }}\n\
             }}\n",
            neutral = self.neutral,
        )
    }

    pub(crate) fn source(&self, params: &[Param]) -> String {
        let t = self.out.cl_name();
        let out_is_double = [Param {
            name: String::new(),
            ty: self.out,
            pointer: false,
            is_const: false,
        }];
        let pragma = fp64_pragma(
            &[self.neutral, self.reduce_expr, self.map_expr, self.preamble],
            if self.out == ScalarType::F64 {
                &out_is_double
            } else {
                params
            },
        );
        format!(
            "{pragma}{preamble}\n#define GILFREE_REDUCE(a, b) ({reduce})\n{stage1}\n{stage2}",
            preamble = self.preamble,
            reduce = self.reduce_expr,
            stage1 = self.stage(REDUCE_STAGE1, &declarations(params), self.map_expr),
            stage2 = self.stage(
                REDUCE_STAGE2,
                &format!("__global const {t} *gilfree_partial, "),
                "gilfree_partial[i]"
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pyopencl_argument_lists() {
        let params =
            parse_params("const float *a, __global float* b, float *restrict c, uint n").unwrap();
        let summary: Vec<_> = params
            .iter()
            .map(|p| (p.name.as_str(), p.ty, p.pointer, p.is_const))
            .collect();
        assert_eq!(
            summary,
            [
                ("a", ScalarType::F32, true, true),
                ("b", ScalarType::F32, true, false),
                ("c", ScalarType::F32, true, false),
                ("n", ScalarType::U32, false, false),
            ]
        );
        assert_eq!(
            parse_params("unsigned long *x, signed char k").unwrap()[0].ty,
            ScalarType::U64
        );
        assert!(parse_params("").unwrap().is_empty());
    }

    #[test]
    fn refuses_what_it_cannot_type_check() {
        for bad in [
            "float4 *a",
            "__local float *a",
            "float **a",
            "float *a, int a",
            "float *i",
            "float *gilfree_acc",
            "float *a,",
            "float",
            "float *2x",
        ] {
            assert!(
                matches!(parse_params(bad), Err(OpenClError::ValueError { .. })),
                "{bad:?} was accepted"
            );
        }
    }

    #[test]
    fn elementwise_source_declares_globals_and_the_range() {
        let params = parse_params("const float *a, double *b").unwrap();
        let src = elementwise_source(&params, "b[i] = a[i]", "");
        assert!(src.starts_with("#pragma OPENCL EXTENSION cl_khr_fp64"));
        assert!(src.contains("__global const float *a, __global double *b, const long gilfree_n"));
        assert!(src.contains("b[i] = a[i];"));
    }
}
