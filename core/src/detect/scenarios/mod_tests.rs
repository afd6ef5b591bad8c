#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_reproducible_and_labelled() {
        for s in Situation::ALL {
            let a = generate(s, 7, 15);
            let b = generate(s, 7, 15);
            assert_eq!(a.samples, b.samples, "{}", s.name());
            assert_eq!(a.samples.len(), 5760 + a.full_gcs.len());
            assert!(a.full_gcs.iter().all(|&i| i < a.samples.len()));
            assert_eq!(
                !a.full_gcs.is_empty(),
                matches!(s, Situation::V8SlowGc | Situation::V8SlowGcLeak)
            );
            assert_eq!(a.leak_start_ms.is_some(), s.leaks());
            assert!(crate::series::validate(&a.samples).is_ok());
            assert_ne!(generate(s, 8, 15).samples, a.samples);
            if let Some(oom) = a.limit_reached_ms {
                assert!(oom >= a.leak_start_ms.expect("only leaks reach the limit"));
            }
        }
        // Fast leaks often outgrow their limit within the day.
        let reached = (0..20)
            .filter(|&seed| {
                generate(Situation::FastLeak, seed, 15)
                    .limit_reached_ms
                    .is_some()
            })
            .count();
        assert!(reached > 0);
    }
}
