use super::*;
use crate::error::ErrorCode;

const MIN: i64 = 60_000;

fn frames() -> Vec<FrameRef<'static>> {
    vec![
        FrameRef {
            function: "runtime.makeslice",
            file: "runtime/slice.go",
            line: 100,
        },
        FrameRef {
            function: "main.leak",
            file: "app.go",
            line: 12,
        },
        FrameRef {
            function: "main.handler",
            file: "app.go",
            line: 30,
        },
        FrameRef {
            function: "main.steady",
            file: "app.go",
            line: 50,
        },
    ]
}

fn whole(p: &HeapProfile, ts: i64, leak_bytes: u64, rate: u64) {
    let f = frames();
    let samples = [
        StackSample {
            frames: &[0, 1, 2],
            objects: leak_bytes / 1024,
            bytes: leak_bytes,
        },
        StackSample {
            frames: &[3, 2],
            objects: 100,
            bytes: 1 << 20,
        },
        // Nothing in use: left out.
        StackSample {
            frames: &[2],
            objects: 0,
            bytes: 0,
        },
    ];
    p.replace(ts, &f, &samples, rate).unwrap();
}

#[test]
fn a_whole_profile_feed_names_the_growing_site_past_the_runtime_frames() {
    let p = HeapProfile::new(ProfileConfig::default()).unwrap();
    assert!(p.growth(None, None).is_none(), "nothing fed yet");
    for i in 0..12 {
        // Flat for an hour, then 1 MiB more every 5 minutes.
        let leak = if i < 6 { 1 << 20 } else { (1 << 20) * (i - 4) };
        whole(&p, i as i64 * 5 * MIN, leak, 1);
    }
    let g = p.growth(Some(30 * MIN), Some(10.0 * 1048576.0)).unwrap();
    assert_eq!(g.basis, GrowthBasis::GrowthStart);
    assert_eq!(g.from_ms, 30 * MIN);
    assert_eq!(g.to_ms, 55 * MIN);
    assert_eq!(g.sites.len(), 1, "{g:?}");
    let s = &g.sites[0];
    assert_eq!(
        (s.function.as_str(), s.file.as_str(), s.line),
        ("main.leak", "app.go", 12)
    );
    assert_eq!(s.bytes, 5.0 * 1048576.0);
    assert_eq!(s.share, 0.5);
    assert_eq!(g.share_of, ShareOf::Floor);
    assert_eq!(g.growth_bytes, 5.0 * 1048576.0);
    assert_eq!(g.inuse_bytes, 8.0 * 1048576.0);
    assert_eq!(
        g.stacks[0].frames,
        [
            "main.handler (app.go:30)",
            "main.leak (app.go:12)",
            "runtime.makeslice (runtime/slice.go:100)"
        ]
    );
    // Without a growth start: since the oldest snapshot; no floor: shares of the profile.
    let g = p.growth(None, None).unwrap();
    assert_eq!(g.basis, GrowthBasis::FirstSnapshot);
    assert_eq!(g.share_of, ShareOf::Profile);
    assert_eq!(g.sites[0].share, 1.0);
}

#[test]
fn whole_profiles_are_unsampled_at_their_rate() {
    let p = HeapProfile::new(ProfileConfig::default()).unwrap();
    whole(&p, 0, 0, 524_288);
    whole(&p, 5 * MIN, 1 << 20, 524_288);
    let g = p.growth(Some(0), None).unwrap();
    // 1024 objects of 1 KiB sampled at 512 KiB: each stands for ~512 objects.
    let expected = unsample(1024.0, 1048576.0, 524_288.0).bytes;
    // Snapshots keep f32: relative precision 6e-8.
    assert!(
        (g.sites[0].bytes - expected).abs() / expected < 1e-6,
        "{g:?}"
    );
    assert!(g.sites[0].bytes > 500.0 * 1048576.0);
}

#[test]
fn bad_input_is_a_typed_error() {
    let p = HeapProfile::new(ProfileConfig::default()).unwrap();
    let f = frames();
    let e = p
        .replace(
            0,
            &f,
            &[StackSample {
                frames: &[0, 9],
                objects: 1,
                bytes: 8,
            }],
            1,
        )
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidOption);
    assert!(e.to_string().contains("frame 9 of 4"), "{e}");
    let bad_cfg = ProfileConfig {
        max_stacks: 1,
        ..ProfileConfig::default()
    };
    assert_eq!(
        HeapProfile::new(bad_cfg).unwrap_err().code(),
        ErrorCode::InvalidOption
    );
    for cfg in [
        ProfileConfig {
            max_frames: 0,
            ..ProfileConfig::default()
        },
        ProfileConfig {
            max_depth: 0,
            ..ProfileConfig::default()
        },
        ProfileConfig {
            max_string_bytes: 1,
            ..ProfileConfig::default()
        },
        ProfileConfig {
            max_live_blocks: 1,
            ..ProfileConfig::default()
        },
        ProfileConfig {
            sample_bytes: 0,
            ..ProfileConfig::default()
        },
        ProfileConfig {
            snapshot_every_ms: 0,
            ..ProfileConfig::default()
        },
        ProfileConfig {
            snapshots: 1,
            ..ProfileConfig::default()
        },
        ProfileConfig {
            top_sites: 0,
            ..ProfileConfig::default()
        },
    ] {
        assert!(cfg.validate().is_err(), "{cfg:?}");
    }
}

#[test]
fn an_allocation_feed_snapshots_from_its_start_before_any_sample() {
    let p = HeapProfile::new(ProfileConfig::default()).unwrap();
    p.begin_allocation_feed().unwrap();
    p.tick(0);
    assert!(p.record_alloc(64, 1 << 20, &frames()[1..3], None));
    p.tick(10 * MIN);
    let g = p.growth(None, None).unwrap();
    assert_eq!(g.from_ms, 0);
    assert_eq!(g.sites[0].function, "main.leak");
    let whole_fed = HeapProfile::new(ProfileConfig::default()).unwrap();
    whole(&whole_fed, 0, 1, 1);
    assert!(whole_fed.begin_allocation_feed().is_err());
}

#[test]
fn one_feed_per_profile() {
    let p = HeapProfile::new(ProfileConfig::default()).unwrap();
    whole(&p, 0, 1, 1);
    assert!(!p.record_alloc(8, 8, &frames()[1..2], None));
    let p = HeapProfile::new(ProfileConfig::default()).unwrap();
    assert!(p.record_alloc(8, 8, &frames()[1..2], None));
    let e = p.replace(0, &frames(), &[], 1).unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidOption);
}

#[test]
fn sampled_allocations_and_frees_keep_the_live_set_with_routes() {
    let p = HeapProfile::new(ProfileConfig {
        sample_bytes: 1,
        ..ProfileConfig::default()
    })
    .unwrap();
    let f = frames();
    let leak = [f[1], f[2]];
    let steady = [f[3], f[2]];
    p.record_alloc(0x1000, 100, &steady, None);
    p.tick(0);
    for i in 0..50u64 {
        let addr = 0x10_0000 + i * 64;
        assert!(p.record_alloc(addr, 1000, &leak, Some("/leak")));
        // Transient garbage of the same route: allocated and freed.
        let tmp = 0x90_0000 + i * 64;
        p.record_alloc(tmp, 5000, &steady, Some("/ok"));
        assert!(p.may_be_sampled(tmp));
        assert!(p.record_free(tmp));
        assert!(!p.record_free(tmp), "a second free is not a sampled block");
    }
    assert!(!p.record_free(0xdead_0000));
    p.tick(10 * MIN);
    let g = p.growth(Some(0), None).unwrap();
    assert_eq!(g.sites.len(), 1, "{g:?}");
    assert_eq!(g.sites[0].function, "main.leak");
    assert_eq!(g.sites[0].route.as_deref(), Some("/leak"));
    assert_eq!(g.sites[0].bytes, 50_000.0);
    assert_eq!(g.sites[0].objects, 50.0);
    assert_eq!(p.stats().live_blocks, 51);
    // A reused address without a seen free replaces the old block.
    p.record_alloc(0x1000, 300, &steady, None);
    assert_eq!(p.stats().live_blocks, 51);
}

#[test]
fn a_full_block_table_drops_samples_and_counts_them() {
    let p = HeapProfile::new(ProfileConfig {
        max_live_blocks: 16,
        ..ProfileConfig::default()
    })
    .unwrap();
    let f = frames();
    let recorded = (0..20u64)
        .filter(|i| p.record_alloc(i * 16, 64, &f[1..2], None))
        .count();
    assert_eq!(recorded, 16);
    assert_eq!(p.stats().dropped_samples, 4);
}

#[test]
fn the_profile_stays_small_with_a_hundred_thousand_distinct_stacks() {
    let p = HeapProfile::new(ProfileConfig {
        sample_bytes: 1,
        ..ProfileConfig::default()
    })
    .unwrap();
    let names: Vec<String> = (0..100_000)
        .map(|i| format!("module{}.function_{i}", i % 97))
        .collect();
    for (i, name) in names.iter().enumerate() {
        let fr = [
            FrameRef {
                function: name,
                file: "/srv/app/a/rather/long/path/to/some/module.py",
                line: i as u32,
            },
            FrameRef {
                function: "handler",
                file: "/srv/app/views.py",
                line: 7,
            },
        ];
        let addr = i as u64 * 16;
        p.record_alloc(addr, 64, &fr, Some("/r"));
        // Most blocks die young; one in ten stays (within the block table's cap).
        if i % 10 != 0 {
            p.record_free(addr);
        }
        if i % 1000 == 0 {
            p.tick(i as i64 * MIN);
        }
    }
    let s = p.stats();
    assert_eq!(s.stacks, 4096);
    assert!(s.overflowed > 90_000);
    assert!(s.heap_bytes < 5 << 20, "{s:?}");
    let g = p.growth(None, None).unwrap();
    assert!(
        g.sites.iter().any(|x| x.function == "(other stacks)"),
        "{g:?}"
    );
}

#[test]
fn pprof_export_of_both_kinds() {
    let p = HeapProfile::new(ProfileConfig::default()).unwrap();
    assert!(p.pprof(PprofKind::Inuse, None).is_none());
    whole(&p, 0, 1 << 20, 1);
    whole(&p, 5 * MIN, 3 << 20, 1);
    let inuse = p.pprof(PprofKind::Inuse, None).unwrap();
    let growth = p.pprof(PprofKind::Growth, Some(0)).unwrap();
    assert!(!inuse.is_empty() && !growth.is_empty());
    assert_ne!(inuse, growth);
}

#[test]
fn the_alert_snapshot_is_kept() {
    let p = HeapProfile::new(ProfileConfig::default()).unwrap();
    p.mark_alert(5);
    assert_eq!(p.alert_ms(), None, "nothing to keep before the first feed");
    whole(&p, 0, 1 << 20, 1);
    whole(&p, 5 * MIN, 2 << 20, 1);
    p.mark_alert(5 * MIN);
    assert_eq!(p.alert_ms(), Some(5 * MIN));
    whole(&p, 10 * MIN, 4 << 20, 1);
    let g = p.growth(Some(0), None).unwrap();
    assert_eq!(g.alert_growth_bytes, Some(1048576.0));
    assert_eq!(g.growth_bytes, 3.0 * 1048576.0);
}

#[test]
fn dependencies_and_standard_libraries_are_told_from_the_service_s_own_code() {
    for (function, file) in [
        ("handle", "/srv/app/node_modules/router/index.js"),
        (
            "decode",
            "/srv/venv/lib/python3.11/site-packages/orjson/__init__.py",
        ),
        ("raw_decode", "/usr/lib/python3.11/json/decoder.py"),
        (
            "get",
            "C:\\app\\.venv\\Lib\\site-packages\\requests\\api.py",
        ),
        ("get", "/usr/lib/python3/dist-packages/requests/api.py"),
        (
            "github.com/gin-gonic/gin.(*Context).JSON",
            "/root/go/pkg/mod/github.com/gin-gonic/gin@v1.10.0/context.go",
        ),
        ("github.com/x/y.F", "/srv/app/vendor/github.com/x/y/f.go"),
        (
            "encoding/json.(*decodeState).object",
            "/usr/local/go/src/encoding/json/decode.go",
        ),
        ("bytes.growSlice", "/usr/local/go/src/bytes/buffer.go"),
    ] {
        assert!(is_dependency(function, file), "{function} {file}");
    }
    for (function, file) in [
        ("rememberSession", "/srv/app/app.js"),
        ("create_order", "/srv/shop/app.py"),
        ("main.handler", "/home/me/leak/app.go"),
        ("main.handler", "/home/me/src/leak/app.go"),
        (
            "github.com/acme/shop/store.(*Cache).Put",
            "/home/me/src/github.com/acme/shop/store/cache.go",
        ),
        ("leakdemo/store.Put", "/home/me/leakdemo/store/put.go"),
        ("", ""),
    ] {
        assert!(!is_dependency(function, file), "{function} {file}");
    }
}

fn site(function: &str, file: &str, bytes: f64) -> GrowingSite {
    GrowingSite {
        function: function.into(),
        file: file.into(),
        line: 1,
        bytes,
        objects: 1.0,
        share: 0.0,
        route: None,
    }
}

#[test]
fn the_service_s_own_sites_come_before_a_dependency_s_unless_they_are_small() {
    // What V8 gives when a leaking function is sometimes inlined into the router's `handle`.
    let mut sites = vec![
        site("tiny", "/srv/app/app.js", 9.0),
        site("handle", "/srv/app/node_modules/router/index.js", 126.0),
        site("parse", "/srv/app/node_modules/body-parser/index.js", 40.0),
        site("rememberSession", "/srv/app/app.js", 115.0),
        site("cacheRow", "/srv/app/db.js", 13.0),
    ];
    rank_sites(&mut sites);
    let order: Vec<&str> = sites.iter().map(|s| s.function.as_str()).collect();
    assert_eq!(
        order,
        ["rememberSession", "cacheRow", "handle", "parse", "tiny"]
    );
    // With no site of the service's own, most bytes first.
    let mut sites = vec![
        site("parse", "/srv/app/node_modules/body-parser/index.js", 40.0),
        site("handle", "/srv/app/node_modules/router/index.js", 126.0),
    ];
    rank_sites(&mut sites);
    assert_eq!(sites[0].function, "handle");
}
