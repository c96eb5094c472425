//! `Scaler` (`Y = (X - offset) * scale`) and `Imputer` (replace a value, NaN by default in
//! scikit-learn's exports, by a per-column fill): both act on the last axis column by column.

use tract_onnx::model::{OnnxOpRegister, ParsingContext};
use tract_onnx::pb::NodeProto;
use tract_onnx::tract_hir::internal::*;

pub(super) fn register(reg: &mut OnnxOpRegister) {
    reg.insert("Scaler", scaler);
    reg.insert("Imputer", imputer);
}

/// What happens to each value of one column.
#[derive(Debug, Clone)]
enum Rule {
    /// `(x - offset[c]) * scale[c]`.
    Scale { offset: Vec<f32>, scale: Vec<f32> },
    /// `fill[c]` where `x` is `replaced` (NaN matches NaN), else `x`.
    Impute { fill: Vec<f32>, replaced: f32 },
}

/// Broadcasts a per-column attribute: one value applies to every column.
fn at(values: &[f32], column: usize) -> f32 {
    if values.len() == 1 {
        values[0]
    } else {
        values.get(column).copied().unwrap_or(f32::NAN)
    }
}

fn bits(values: &[f32]) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

// Compared bit for bit, so NaN fills equal themselves and tract may treat the op as `Eq`.
impl PartialEq for Rule {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (
                Self::Scale {
                    offset: a,
                    scale: b,
                },
                Self::Scale {
                    offset: c,
                    scale: d,
                },
            ) => bits(a) == bits(c) && bits(b) == bits(d),
            (
                Self::Impute {
                    fill: a,
                    replaced: b,
                },
                Self::Impute {
                    fill: c,
                    replaced: d,
                },
            ) => bits(a) == bits(c) && b.to_bits() == d.to_bits(),
            _ => false,
        }
    }
}

impl Eq for Rule {}

impl Rule {
    fn width(&self) -> usize {
        match self {
            Self::Scale { offset, scale } => offset.len().max(scale.len()),
            Self::Impute { fill, .. } => fill.len(),
        }
    }

    fn apply(&self, x: f32, column: usize) -> f32 {
        match self {
            Self::Scale { offset, scale } => (x - at(offset, column)) * at(scale, column),
            Self::Impute { fill, replaced } => {
                let hit = if replaced.is_nan() {
                    x.is_nan()
                } else {
                    x == *replaced
                };
                if hit { at(fill, column) } else { x }
            }
        }
    }
}

fn scaler(
    _ctx: &ParsingContext,
    node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
    let offset: Vec<f32> = node
        .get_attr_opt_vec("offset")?
        .unwrap_or_else(|| vec![0.0]);
    let scale: Vec<f32> = node.get_attr_opt_vec("scale")?.unwrap_or_else(|| vec![1.0]);
    node.expect(
        !offset.is_empty() && !scale.is_empty(),
        "offset and scale not empty",
    )?;
    Ok((
        expand(ColumnWise {
            name: "Scaler",
            rule: Rule::Scale { offset, scale },
        }),
        vec![],
    ))
}

fn imputer(
    _ctx: &ParsingContext,
    node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
    let fill: Vec<f32> = node
        .get_attr_opt_vec("imputed_value_floats")?
        .unwrap_or_default();
    node.expect(
        !fill.is_empty(),
        "imputed_value_floats (integer imputation is not supported)",
    )?;
    let replaced: f32 = node.get_attr_opt("replaced_value_float")?.unwrap_or(0.0);
    Ok((
        expand(ColumnWise {
            name: "Imputer",
            rule: Rule::Impute { fill, replaced },
        }),
        vec![],
    ))
}

/// The ONNX node as it is parsed: float out, same shape as in.
#[derive(Debug, Clone, PartialEq)]
struct ColumnWise {
    name: &'static str,
    rule: Rule,
}

impl Expansion for ColumnWise {
    fn name(&self) -> StaticName {
        self.name.into()
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        super::one_in_one_out(s, inputs, outputs, true)?;
        s.equals(&inputs[0].shape, &outputs[0].shape)?;
        Ok(())
    }

    fn wire(
        &self,
        prefix: &str,
        model: &mut TypedModel,
        inputs: &[OutletId],
    ) -> TractResult<TVec<OutletId>> {
        model.wire_node(
            prefix,
            ColumnWiseOp {
                name: self.name,
                rule: self.rule.clone(),
            },
            inputs,
        )
    }
}

/// The typed operator tract runs.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ColumnWiseOp {
    name: &'static str,
    rule: Rule,
}

impl Op for ColumnWiseOp {
    fn name(&self) -> StaticName {
        self.name.into()
    }

    op_as_typed_op!();
}

impl EvalOp for ColumnWiseOp {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let input = input.cast_to::<f32>()?;
        let shape = input.shape().to_vec();
        let width = shape.last().copied().unwrap_or(1).max(1);
        let n = self.rule.width();
        if n != 1 && n != width {
            bail!(
                "{} has {n} values per column for an input of {width} columns",
                self.name
            );
        }
        let values = input.to_plain_array_view::<f32>()?;
        let out: Vec<f32> = values
            .iter()
            .enumerate()
            .map(|(i, x)| self.rule.apply(*x, i % width))
            .collect();
        Ok(tvec!(tensor1(&out).into_shape(&shape)?.into_tvalue()))
    }
}

impl TypedOp for ColumnWiseOp {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(f32::fact(inputs[0].shape.clone())))
    }

    as_op!();
}
