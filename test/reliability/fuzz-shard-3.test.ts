// Fuzz programs, shard 3 of 4 (see fuzz-shard.ts).
import { fuzzShard } from "./fuzz-shard.ts";

fuzzShard(2);
