package main

// Topic set-up for scripts/bench.sh: creating and deleting a topic from a Go binary over the stack's
// PLAINTEXT listener takes milliseconds, where Kafka's TopicCommand starts a JVM for each call.

import (
	"context"
	"os"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func topicCommand(action, topic string, rest []string) {
	partitions := 0
	switch {
	case action == "create" && len(rest) == 1:
		n, err := strconv.Atoi(rest[0])
		if err != nil || n < 1 {
			fail(2, "PARTITIONS must be a positive number")
		}
		partitions = n
	case action == "delete" && len(rest) == 0:
	default:
		fail(2, "usage: franz-peer topic create TOPIC PARTITIONS | topic delete TOPIC")
	}
	client, err := kgo.NewClient(kgo.SeedBrokers(os.Getenv("PLAINTEXT_BOOTSTRAP")))
	if err != nil {
		fail(2, "%v", err)
	}
	defer client.Close()
	admin := kadm.NewClient(client)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	switch action {
	case "create":
		resp, err := admin.CreateTopic(ctx, int32(partitions), 1, nil, topic)
		if err == nil {
			err = resp.Err
		}
		if err != nil {
			fail(1, "create %s: %v", topic, err)
		}
		// Wait until every partition has a leader, so the producers start on a ready topic.
		for {
			md, err := admin.Metadata(ctx, topic)
			if err == nil {
				if t, ok := md.Topics[topic]; ok && t.Err == nil && len(t.Partitions) == partitions {
					ready := true
					for _, p := range t.Partitions {
						ready = ready && p.Err == nil && p.Leader >= 0
					}
					if ready {
						return
					}
				}
			}
			if ctx.Err() != nil {
				fail(1, "topic %s has no leaders after 60 s", topic)
			}
			time.Sleep(50 * time.Millisecond)
		}
	case "delete":
		resp, err := admin.DeleteTopic(ctx, topic)
		if err == nil {
			err = resp.Err
		}
		if err != nil {
			fail(1, "delete %s: %v", topic, err)
		}
	}
}
