//! `predict_class` and `class_probabilities`: apply a model trained by `train_multiclass` to
//! feature columns given in the model's order.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Float64Builder, ListBuilder, StringArray, StringBuilder, StructBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use datafusion_macros::user_doc;

use super::{FeatureScoring, ModelFunc, check_scoring_call};
use crate::functions::util::finish;
use crate::models::multiclass::MulticlassModel;
use crate::models::store::ModelStore;

/// The two functions over `store`.
pub fn functions(store: &Arc<ModelStore>) -> Vec<ScalarUDF> {
    [Output::Class, Output::Ranking]
        .into_iter()
        .map(|output| {
            ScalarUDF::new_from_impl(MulticlassFunc::new(
                output,
                store,
                Signature::variadic_any(Volatility::Stable),
            ))
        })
        .collect()
}

#[user_doc(
    doc_section(label = "Prediction Functions"),
    description = "The most likely class, from the model saved by train_multiclass (ties go \
        to the class first by name). The features follow the name in the order of the \
        training table's columns; NULL features are missing values the trees route.",
    syntax_example = "predict_class(model, feature_1, ..., feature_n)",
    sql_example = r#"```sql
> SELECT customer_id, predict_class('next_category', orders, days_since_order, share_food,
    share_treats, share_toys, share_vitamins, share_accessories, share_grooming, top_category,
    last_category) AS next_category
  FROM trait_features WHERE snapshot = 'score' ORDER BY customer_id LIMIT 5;
```"#,
    argument(name = "model", description = "The model's name (models/NAME.json)."),
    argument(
        name = "feature_k",
        description = "The features, in the model's order."
    )
)]
#[derive(Debug)]
struct ClassDoc;

#[user_doc(
    doc_section(label = "Prediction Functions"),
    description = "Every class with its probability, most likely first: a ranking, such as \
        the channels a customer answers best. The probabilities add up to 1.",
    syntax_example = "class_probabilities(model, feature_1, ..., feature_n)",
    sql_example = r#"```sql
> SELECT customer_id, class_probabilities('next_category', orders, days_since_order, share_food,
    share_treats, share_toys, share_vitamins, share_accessories, share_grooming, top_category,
    last_category)[1]['probability'] AS p
  FROM trait_features WHERE snapshot = 'score' ORDER BY customer_id LIMIT 5;
```"#,
    argument(name = "model", description = "The model's name."),
    argument(
        name = "feature_k",
        description = "The features, in the model's order."
    )
)]
#[derive(Debug)]
struct RankingDoc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Output {
    Class,
    Ranking,
}

impl Output {
    fn name(self) -> &'static str {
        match self {
            Self::Class => "predict_class",
            Self::Ranking => "class_probabilities",
        }
    }
}

pub(super) type MulticlassFunc = ModelFunc<Output>;

fn entry_fields() -> Fields {
    Fields::from(vec![
        Field::new("class", DataType::Utf8, true),
        Field::new("probability", DataType::Float64, true),
    ])
}

fn ranking_type() -> DataType {
    DataType::List(Arc::new(Field::new(
        "item",
        DataType::Struct(entry_fields()),
        true,
    )))
}

impl ScalarUDFImpl for MulticlassFunc {
    fn name(&self) -> &str {
        self.output.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        check_scoring_call(self.output.name(), args, "features")?;
        Ok(match self.output {
            Output::Class => DataType::Utf8,
            Output::Ranking => ranking_type(),
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let name = self.output.name();
        let FeatureScoring { model, data, .. } = FeatureScoring::<MulticlassModel>::read(
            self,
            &args,
            name,
            "train_multiclass('NAME', 'TABLE', 'LABEL', 'KEY')",
        )?;
        let rows = args.number_rows;
        let k = model.classes.len();
        let p = model.probabilities(&data, rows);
        let ranked = |r: usize| {
            let mut order: Vec<usize> = (0..k).collect();
            order.sort_by(|&a, &b| p[r * k + b].total_cmp(&p[r * k + a]).then(a.cmp(&b)));
            order
        };
        let array: ArrayRef = match self.output {
            Output::Class => Arc::new(StringArray::from_iter_values(
                (0..rows).map(|r| model.classes[ranked(r)[0]].as_str()),
            )),
            Output::Ranking => {
                let entry = StructBuilder::from_fields(entry_fields(), rows * k);
                let mut list = ListBuilder::new(entry).with_field(Arc::new(Field::new(
                    "item",
                    DataType::Struct(entry_fields()),
                    true,
                )));
                for r in 0..rows {
                    let entries = list.values();
                    for c in ranked(r) {
                        if let Some(b) = entries.field_builder::<StringBuilder>(0) {
                            b.append_value(&model.classes[c]);
                        }
                        if let Some(b) = entries.field_builder::<Float64Builder>(1) {
                            b.append_value(p[r * k + c]);
                        }
                        entries.append(true);
                    }
                    list.append(true);
                }
                Arc::new(list.finish())
            }
        };
        finish(array, &args)
    }

    fn documentation(&self) -> Option<&Documentation> {
        match self.output {
            Output::Class => ClassDoc.doc(),
            Output::Ranking => RankingDoc.doc(),
        }
    }
}
