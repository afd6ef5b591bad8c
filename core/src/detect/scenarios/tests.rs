use super::*;

#[test]
fn generation_is_reproducible_and_labelled() {
    for s in Situation::ALL.into_iter().chain(Situation::WEEK) {
        let a = generate(s, 7, 15);
        let b = generate(s, 7, 15);
        assert_eq!(a.samples, b.samples, "{}", s.name());
        assert_eq!(a.traffic, b.traffic, "{}", s.name());
        if s.legacy() {
            assert_eq!(a.samples.len(), 5760 + a.full_gcs.len());
            assert_eq!(a.traffic.len(), 5760);
        }
        assert!(a.full_gcs.iter().all(|&i| i < a.samples.len()));
        assert_eq!(
            !a.full_gcs.is_empty(),
            matches!(s, Situation::V8SlowGc | Situation::V8SlowGcLeak)
        );
        assert_eq!(a.leak_start_ms.is_some(), s.leaks());
        assert_eq!(a.leak_share_per_hour.is_some(), s.leaks());
        assert!(crate::series::validate(&a.samples).is_ok());
        assert!(crate::series::validate(&a.traffic).is_ok());
        assert!(a.traffic.iter().all(|x| x.value >= 0.0));
        assert_ne!(generate(s, 8, 15).samples, a.samples);
        if let Some(oom) = a.limit_reached_ms {
            assert!(oom >= a.leak_start_ms.expect("only leaks reach the limit"));
        }
        assert_eq!(Situation::from_name(s.name()), Some(s));
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

#[test]
fn the_traffic_of_a_diurnal_legacy_series_follows_its_sawtooth() {
    // The legacy diurnal floor and sawtooth follow `1 + day_traffic * day`: the busiest hour
    // of the traffic is where the sawtooth is tallest.
    let sc = generate(Situation::Diurnal, 4, 15);
    let busiest = sc
        .traffic
        .chunks(240)
        .map(|h| h.iter().map(|x| x.value).sum::<f64>())
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap()
        .0;
    let tallest = sc
        .samples
        .chunks(240)
        .map(|h| {
            let lo = h.iter().map(|x| x.value).fold(f64::INFINITY, f64::min);
            h.iter().map(|x| x.value - lo).fold(0.0, f64::max)
        })
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap()
        .0;
    assert!(busiest.abs_diff(tallest) <= 3, "{busiest} vs {tallest}");
}

#[test]
fn a_legacy_heap_stays_under_its_limit() {
    // A container's limit stands above its healthy heap's peak: between its spikes (big
    // temporary allocations) a healthy heap stays under it, and not pressed against it as a
    // heap collected at the limit would be. Before, 14 flat, 40 diurnal, 17 slow-GC and 14 V8
    // slow-GC series of seeds 0..250 rose above it (up to 1.58 times it).
    for s in [
        Situation::Flat,
        Situation::Diurnal,
        Situation::SlowGc,
        Situation::V8SlowGc,
    ] {
        for seed in 0..40 {
            let sc = generate_without_spikes(s, seed, 15);
            let limit = sc.limit.expect("a heap");
            let top = sc.samples.iter().map(|x| x.value).fold(0.0, f64::max);
            assert!(top < limit, "{} {seed}: {}", s.name(), top / limit);
        }
    }
    // Its spikes are unchanged.
    let with = generate(Situation::Spikes, 1, 15);
    let without = generate_without_spikes(Situation::Spikes, 1, 15);
    assert_eq!(with.samples.len(), without.samples.len());
    assert!(
        with.samples
            .iter()
            .zip(&without.samples)
            .any(|(a, b)| a.value > b.value)
    );
}
