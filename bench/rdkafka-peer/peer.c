/*
 * The librdkafka peer of scripts/bench.sh: produces the same workload as shoe-producer (decimal
 * keys, values taken in turn from a pool of framed Shoe values) with the same engine settings, and
 * prints one JSON line with its own throughput. Built by bench.sh with: cc -O2 peer.c -lrdkafka
 *
 * Usage: rdkafka-peer TOPIC COUNT PAYLOAD_FILE COMPRESSION
 * PAYLOAD_FILE holds values as [u32 big-endian length][bytes] records.
 * Connection settings come from the same variables as shoe-producer's: BOOTSTRAP_SERVERS,
 * KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_MECHANISM, KAFKA_API_KEY, KAFKA_API_SECRET, KAFKA_SSL_CA_LOCATION.
 */
#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long long acked, failed;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    (void)opaque;
    if (m->err) {
        if (failed++ == 0) fprintf(stderr, "rdkafka-peer: delivery failed: %s\n", rd_kafka_err2str(m->err));
    } else {
        acked++;
    }
}

static void set(rd_kafka_conf_t *conf, const char *name, const char *value) {
    char err[512];
    if (value == NULL || rd_kafka_conf_set(conf, name, value, err, sizeof err) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "rdkafka-peer: cannot set %s: %s\n", name, value ? err : "missing value");
        exit(2);
    }
}

static double now_secs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s TOPIC COUNT PAYLOAD_FILE none|lz4|zstd|gzip|snappy\n", argv[0]);
        return 2;
    }
    const char *topic = argv[1];
    long long count = atoll(argv[2]);

    /* The value pool. */
    FILE *f = fopen(argv[3], "rb");
    if (!f) { perror(argv[3]); return 2; }
    size_t cap = 16384, n = 0;
    unsigned char **values = malloc(cap * sizeof *values);
    size_t *lens = malloc(cap * sizeof *lens);
    unsigned char hdr[4];
    while (fread(hdr, 1, 4, f) == 4) {
        size_t len = ((size_t)hdr[0] << 24) | ((size_t)hdr[1] << 16) | ((size_t)hdr[2] << 8) | hdr[3];
        if (n == cap) {
            cap *= 2;
            values = realloc(values, cap * sizeof *values);
            lens = realloc(lens, cap * sizeof *lens);
        }
        values[n] = malloc(len);
        if (fread(values[n], 1, len, f) != len) { fprintf(stderr, "truncated payload file\n"); return 2; }
        lens[n++] = len;
    }
    fclose(f);
    if (n == 0) { fprintf(stderr, "empty payload file\n"); return 2; }

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", getenv("BOOTSTRAP_SERVERS"));
    const char *protocol = getenv("KAFKA_SECURITY_PROTOCOL");
    set(conf, "security.protocol", protocol ? protocol : "SASL_SSL");
    if (!protocol || strstr(protocol, "SASL")) {
        const char *mechanism = getenv("KAFKA_SASL_MECHANISM");
        set(conf, "sasl.mechanisms", mechanism ? mechanism : "PLAIN");
        set(conf, "sasl.username", getenv("KAFKA_API_KEY"));
        set(conf, "sasl.password", getenv("KAFKA_API_SECRET"));
    }
    if (getenv("KAFKA_SSL_CA_LOCATION")) set(conf, "ssl.ca.location", getenv("KAFKA_SSL_CA_LOCATION"));
    /* The engine settings shoe-producer runs with by default. */
    set(conf, "acks", "all");
    set(conf, "enable.idempotence", "false");
    set(conf, "compression.codec", argv[4]);
    set(conf, "linger.ms", "5");
    set(conf, "batch.size", "1048576");
    set(conf, "max.in.flight.requests.per.connection", "5");
    set(conf, "queue.buffering.max.kbytes", "32768");
    set(conf, "queue.buffering.max.messages", "10000000");
    set(conf, "message.timeout.ms", "120000");
    set(conf, "partitioner", "murmur2_random"); /* Java's partitioner */
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);

    char err[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) { fprintf(stderr, "rdkafka-peer: %s\n", err); return 1; }

    /* Connect and read the topic's metadata before the clock starts, as shoe-producer does. */
    rd_kafka_topic_t *handle = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *metadata;
    rd_kafka_resp_err_t merr = rd_kafka_metadata(rk, 0, handle, &metadata, 30000);
    if (merr) { fprintf(stderr, "rdkafka-peer: metadata: %s\n", rd_kafka_err2str(merr)); return 1; }
    rd_kafka_metadata_destroy(metadata);
    rd_kafka_topic_destroy(handle);

    char key[24];
    double start = now_secs();
    for (long long i = 0; i < count; i++) {
        int key_len = snprintf(key, sizeof key, "%lld", i + 1);
        size_t v = (size_t)(i % (long long)n);
        for (;;) {
            rd_kafka_resp_err_t e = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, (size_t)key_len),
                RD_KAFKA_V_VALUE(values[v], lens[v]), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_END);
            if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                fprintf(stderr, "rdkafka-peer: produce failed: %s\n", rd_kafka_err2str(e));
                return 1;
            }
            rd_kafka_poll(rk, 1); /* backpressure: wait for deliveries */
        }
        if ((i & 1023) == 0) rd_kafka_poll(rk, 0);
    }
    rd_kafka_flush(rk, 180000);
    double elapsed = now_secs() - start;
    printf("{\"tool\":\"librdkafka %s\",\"sent\":%lld,\"acked\":%lld,\"failed\":%lld,\"elapsed_secs\":%.3f,"
           "\"records_per_sec\":%.1f}\n",
           rd_kafka_version_str(), count, acked, failed, elapsed, acked / elapsed);
    rd_kafka_destroy(rk);
    return failed == 0 && acked == count ? 0 : 1;
}
