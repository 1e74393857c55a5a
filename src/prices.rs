//! What Claude models cost per token, for estimates from token counts (the sessions step's cost of a day's
//! Claude Code sessions). The budget itself does not estimate: it records the `total_cost_usd` each `claude` call
//! reports. List prices in US dollars per million tokens; cache writes (5 minutes) cost 1.25 times the input
//! price and cache reads a tenth of it.

/// Input and output price of a model family, dollars per million tokens.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Price {
    pub(crate) input: f64,
    pub(crate) output: f64,
}

/// Model id prefixes and their prices, the first match wins: the older, dearer Opus models before the rest.
const TABLE: &[(&str, Price)] = &[
    (
        "claude-3-opus",
        Price {
            input: 15.0,
            output: 75.0,
        },
    ),
    (
        "claude-opus-4-0",
        Price {
            input: 15.0,
            output: 75.0,
        },
    ),
    (
        "claude-opus-4-1",
        Price {
            input: 15.0,
            output: 75.0,
        },
    ),
    (
        "claude-opus-4-2025",
        Price {
            input: 15.0,
            output: 75.0,
        },
    ),
    (
        "claude-opus",
        Price {
            input: 5.0,
            output: 25.0,
        },
    ),
    (
        "claude-3-haiku",
        Price {
            input: 0.25,
            output: 1.25,
        },
    ),
    (
        "claude-3-5-haiku",
        Price {
            input: 0.8,
            output: 4.0,
        },
    ),
    (
        "claude-haiku",
        Price {
            input: 1.0,
            output: 5.0,
        },
    ),
    (
        "claude-3-5-sonnet",
        Price {
            input: 3.0,
            output: 15.0,
        },
    ),
    (
        "claude-3-7-sonnet",
        Price {
            input: 3.0,
            output: 15.0,
        },
    ),
    (
        "claude-sonnet",
        Price {
            input: 3.0,
            output: 15.0,
        },
    ),
];

/// The price of `model` (`claude-sonnet-4-5-20250929`, `us.anthropic.claude-opus-4-1...` as Bedrock names it),
/// `None` for a model the table does not know.
pub(crate) fn price(model: &str) -> Option<Price> {
    let id = model.find("claude-").map_or(model, |i| &model[i..]);
    TABLE
        .iter()
        .find(|(prefix, _)| id.starts_with(prefix))
        .map(|(_, price)| *price)
}

/// The cost in dollars of the given token counts at `price`.
#[expect(
    clippy::cast_precision_loss,
    reason = "token counts are far below 2^52"
)]
pub(crate) fn cost(
    price: Price,
    input: u64,
    output: u64,
    cache_write: u64,
    cache_read: u64,
) -> f64 {
    (input as f64 * price.input
        + output as f64 * price.output
        + cache_write as f64 * price.input * 1.25
        + cache_read as f64 * price.input * 0.1)
        / 1_000_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_map_to_their_family_and_unknown_ones_to_none() {
        let p = |input, output| Some(Price { input, output });
        assert_eq!(price("claude-opus-4-1-20250805"), p(15.0, 75.0));
        assert_eq!(price("claude-opus-4-20250514"), p(15.0, 75.0));
        assert_eq!(price("claude-opus-4-5-20251101"), p(5.0, 25.0));
        assert_eq!(price("claude-sonnet-4-5-20250929"), p(3.0, 15.0));
        assert_eq!(
            price("us.anthropic.claude-3-5-haiku-20241022-v1:0"),
            p(0.8, 4.0)
        );
        assert_eq!(price("claude-haiku-4-5"), p(1.0, 5.0));
        assert_eq!(price("gpt-4o"), None);
        assert_eq!(price("<synthetic>"), None);
    }

    #[test]
    fn cache_writes_and_reads_are_priced_from_the_input_price() {
        let sonnet = price("claude-sonnet-4-5").unwrap();
        let dollars = cost(sonnet, 1_000_000, 100_000, 200_000, 1_000_000);
        assert!(
            (dollars - (3.0 + 1.5 + 0.75 + 0.3)).abs() < 1e-9,
            "{dollars}"
        );
    }
}
