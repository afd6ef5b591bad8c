//go:build race

package leaksense

// raceEnabled: under the race detector, RSS is dominated by its shadow memory.
const raceEnabled = true
