module shoe-producer.bench/delay-proxy

go 1.24
