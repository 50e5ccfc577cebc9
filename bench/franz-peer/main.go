// The franz-go peer of scripts/bench.sh: produces the same workload as shoe-producer (decimal keys
// 1..COUNT, values taken in turn from a pool of framed Shoe values, franz-go's default partitioner,
// which hashes keys with Java's murmur2) with the same engine settings, and prints one JSON line with
// its own throughput (first send to last acknowledgement).
//
//	franz-peer produce TOPIC COUNT PAYLOAD_FILE none|lz4 true|false   (the last: idempotence)
//	franz-peer topic create TOPIC PARTITIONS | topic delete TOPIC       (over PLAINTEXT_BOOTSTRAP)
//
// Connection settings come from shoe-producer's variables: BOOTSTRAP_SERVERS, KAFKA_API_KEY,
// KAFKA_API_SECRET, KAFKA_SSL_CA_LOCATION (SASL_SSL with PLAIN).
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
)

func fail(code int, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "franz-peer: "+format+"\n", args...)
	os.Exit(code)
}

func main() {
	if len(os.Args) >= 4 && os.Args[1] == "topic" {
		topicCommand(os.Args[2], os.Args[3], os.Args[4:])
		return
	}
	if len(os.Args) != 7 || os.Args[1] != "produce" {
		fail(2, "usage: franz-peer produce TOPIC COUNT PAYLOAD_FILE none|lz4 true|false | topic create TOPIC PARTITIONS | topic delete TOPIC")
	}
	produce(os.Args[2], os.Args[3], os.Args[4], os.Args[5], os.Args[6])
}

// readPool reads values stored as [u32 big-endian length][bytes].
func readPool(path string) [][]byte {
	data, err := os.ReadFile(path)
	if err != nil {
		fail(2, "%v", err)
	}
	var pool [][]byte
	for len(data) >= 4 {
		n := int(binary.BigEndian.Uint32(data))
		if len(data) < 4+n {
			fail(2, "%s: truncated payload file", path)
		}
		pool = append(pool, data[4:4+n])
		data = data[4+n:]
	}
	if len(pool) == 0 {
		fail(2, "%s: empty payload file", path)
	}
	return pool
}

func connectionOpts() []kgo.Opt {
	tlsConfig := &tls.Config{}
	if ca := os.Getenv("KAFKA_SSL_CA_LOCATION"); ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			fail(2, "%v", err)
		}
		tlsConfig.RootCAs = x509.NewCertPool()
		tlsConfig.RootCAs.AppendCertsFromPEM(pem)
	}
	return []kgo.Opt{
		kgo.SeedBrokers(strings.Split(os.Getenv("BOOTSTRAP_SERVERS"), ",")...),
		kgo.DialTLSConfig(tlsConfig),
		kgo.SASL(plain.Auth{User: os.Getenv("KAFKA_API_KEY"), Pass: os.Getenv("KAFKA_API_SECRET")}.AsMechanism()),
	}
}

func produce(topic, countArg, poolPath, codec, idempotent string) {
	count, err := strconv.ParseInt(countArg, 10, 64)
	if err != nil {
		fail(2, "COUNT: %v", err)
	}
	pool := readPool(poolPath)
	opts := append(connectionOpts(),
		kgo.DefaultProduceTopic(topic),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(5*time.Millisecond),
		kgo.ProducerBatchMaxBytes(1048576),
		kgo.MaxBufferedBytes(32<<20),
		kgo.MaxBufferedRecords(1<<24), // bounded by bytes, as the other producers are
		kgo.RecordDeliveryTimeout(120*time.Second),
	)
	switch codec {
	case "none":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.NoCompression()))
	case "lz4":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.Lz4Compression()))
	default:
		fail(2, "compression %q: use none or lz4", codec)
	}
	switch idempotent {
	case "true": // franz-go's default; it then allows one produce request in flight per broker
	case "false":
		opts = append(opts, kgo.DisableIdempotentWrite(), kgo.MaxProduceRequestsInflightPerBroker(5))
	default:
		fail(2, "idempotence %q: use true or false", idempotent)
	}
	client, err := kgo.NewClient(opts...)
	if err != nil {
		fail(2, "%v", err)
	}
	defer client.Close()

	// Connect and read the topic's metadata before the clock starts, as shoe-producer does.
	ctx := context.Background()
	warm, cancel := context.WithTimeout(ctx, 30*time.Second)
	if err := client.Ping(warm); err != nil {
		fail(1, "connect: %v", err)
	}
	client.ForceMetadataRefresh()
	cancel()

	var acked, failed atomic.Int64
	var firstErr atomic.Value
	done := func(_ *kgo.Record, err error) {
		if err != nil {
			if failed.Add(1) == 1 {
				firstErr.Store(err.Error())
			}
			return
		}
		acked.Add(1)
	}
	start := time.Now()
	for i := int64(1); i <= count; i++ {
		record := &kgo.Record{
			Key:   strconv.AppendInt(make([]byte, 0, 20), i, 10),
			Value: pool[(i-1)%int64(len(pool))],
		}
		client.Produce(ctx, record, done) // blocks while the buffer is full
	}
	if err := client.Flush(ctx); err != nil {
		fail(1, "flush: %v", err)
	}
	elapsed := time.Since(start).Seconds()
	if e := firstErr.Load(); e != nil {
		fmt.Fprintf(os.Stderr, "franz-peer: delivery failed: %s\n", e)
	}
	fmt.Printf("{\"tool\":\"franz-go\",\"sent\":%d,\"acked\":%d,\"failed\":%d,\"elapsed_secs\":%.3f,\"records_per_sec\":%.1f}\n",
		count, acked.Load(), failed.Load(), elapsed, float64(acked.Load())/elapsed)
	if failed.Load() != 0 || acked.Load() != count {
		os.Exit(1)
	}
}
