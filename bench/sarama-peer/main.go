// The sarama peer of scripts/bench.sh: sarama's AsyncProducer (the design of the Go program this
// project replaces) producing the same workload as shoe-producer (decimal keys 1..COUNT, values taken in
// turn from a pool of framed Shoe values) with the closest settings sarama has, and one JSON line with
// its own throughput (first send to last acknowledgement).
//
//	sarama-peer TOPIC COUNT PAYLOAD_FILE none|lz4 true|false   (the last: idempotence)
//
// Settings: acks=all (WaitForAll), Flush.Frequency 5 ms (linger), Flush.Bytes 1 MiB (batch size),
// Net.MaxOpenRequests 5, or 1 with idempotence (sarama refuses more), protocol version 3.6; everything
// else sarama's default (Retry.Max 3; hash partitioner: FNV-1a of the key, not Java's murmur2; ChannelBufferSize 256;
// MaxMessageBytes 1,000,000). Connection settings come from shoe-producer's variables:
// BOOTSTRAP_SERVERS, KAFKA_API_KEY, KAFKA_API_SECRET, KAFKA_SSL_CA_LOCATION (SASL_SSL with PLAIN).
package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"
)

func fail(code int, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "sarama-peer: "+format+"\n", args...)
	os.Exit(code)
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

func config(codec, idempotent string) *sarama.Config {
	c := sarama.NewConfig()
	c.ClientID = "sarama-peer"
	c.Version = sarama.V3_6_0_0
	c.Net.TLS.Enable = true
	c.Net.TLS.Config = &tls.Config{}
	if ca := os.Getenv("KAFKA_SSL_CA_LOCATION"); ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			fail(2, "%v", err)
		}
		c.Net.TLS.Config.RootCAs = x509.NewCertPool()
		c.Net.TLS.Config.RootCAs.AppendCertsFromPEM(pem)
	}
	c.Net.SASL.Enable = true
	c.Net.SASL.Mechanism = sarama.SASLTypePlaintext
	c.Net.SASL.User = os.Getenv("KAFKA_API_KEY")
	c.Net.SASL.Password = os.Getenv("KAFKA_API_SECRET")

	c.Producer.RequiredAcks = sarama.WaitForAll
	c.Producer.Flush.Frequency = 5 * time.Millisecond
	c.Producer.Flush.Bytes = 1048576
	c.Producer.Return.Successes = true
	c.Producer.Return.Errors = true
	c.Net.MaxOpenRequests = 5
	switch codec {
	case "none":
		c.Producer.Compression = sarama.CompressionNone
	case "lz4":
		c.Producer.Compression = sarama.CompressionLZ4
	default:
		fail(2, "compression %q: use none or lz4", codec)
	}
	switch idempotent {
	case "true":
		c.Producer.Idempotent = true
		c.Net.MaxOpenRequests = 1
	case "false":
	default:
		fail(2, "idempotence %q: use true or false", idempotent)
	}
	return c
}

func main() {
	if len(os.Args) != 6 {
		fail(2, "usage: sarama-peer TOPIC COUNT PAYLOAD_FILE none|lz4 true|false")
	}
	topic := os.Args[1]
	count, err := strconv.ParseInt(os.Args[2], 10, 64)
	if err != nil {
		fail(2, "COUNT: %v", err)
	}
	pool := readPool(os.Args[3])
	brokers := strings.Split(os.Getenv("BOOTSTRAP_SERVERS"), ",")

	// Connect and read the topic's metadata before the clock starts, as shoe-producer does.
	client, err := sarama.NewClient(brokers, config(os.Args[4], os.Args[5]))
	if err != nil {
		fail(1, "connect: %v", err)
	}
	if _, err := client.Partitions(topic); err != nil {
		fail(1, "metadata: %v", err)
	}
	producer, err := sarama.NewAsyncProducerFromClient(client)
	if err != nil {
		fail(1, "producer: %v", err)
	}

	var acked, failed int64
	var firstErr error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for range producer.Successes() {
			acked++
		}
	}()
	go func() {
		defer wg.Done()
		for e := range producer.Errors() {
			if failed++; failed == 1 {
				firstErr = e.Err
			}
		}
	}()
	start := time.Now()
	for i := int64(1); i <= count; i++ {
		producer.Input() <- &sarama.ProducerMessage{
			Topic: topic,
			Key:   sarama.ByteEncoder(strconv.AppendInt(make([]byte, 0, 20), i, 10)),
			Value: sarama.ByteEncoder(pool[(i-1)%int64(len(pool))]),
		}
	}
	producer.AsyncClose() // flushes what is buffered, then closes Successes and Errors
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	client.Close()
	if firstErr != nil {
		fmt.Fprintf(os.Stderr, "sarama-peer: delivery failed: %v\n", firstErr)
	}
	fmt.Printf("{\"tool\":\"sarama\",\"sent\":%d,\"acked\":%d,\"failed\":%d,\"elapsed_secs\":%.3f,\"records_per_sec\":%.1f}\n",
		count, acked, failed, elapsed, float64(acked)/elapsed)
	if failed != 0 || acked != count {
		os.Exit(1)
	}
}
