/* The reference for `residency-bench geo`: libmaxminddb doing lookup + country.iso_code over the same
 * addresses and file. Addresses are parsed before timing, as the Swift side does; best of three passes. */
#include <arpa/inet.h>
#include <maxminddb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s DATABASE ADDRESSES\n", argv[0]);
        return 64;
    }
    MMDB_s mmdb;
    if (MMDB_open(argv[1], MMDB_MODE_MMAP, &mmdb) != MMDB_SUCCESS) {
        fprintf(stderr, "cannot open %s\n", argv[1]);
        return 1;
    }
    FILE *file = fopen(argv[2], "r");
    if (!file) {
        perror(argv[2]);
        return 1;
    }
    size_t capacity = 1 << 20, count = 0;
    struct sockaddr_storage *addresses = malloc(capacity * sizeof *addresses);
    char line[128];
    while (fgets(line, sizeof line, file)) {
        line[strcspn(line, "\n")] = 0;
        if (count == capacity) addresses = realloc(addresses, (capacity *= 2) * sizeof *addresses);
        memset(&addresses[count], 0, sizeof addresses[count]);
        struct sockaddr_in *v4 = (struct sockaddr_in *)&addresses[count];
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&addresses[count];
        if (inet_pton(AF_INET, line, &v4->sin_addr) == 1) {
            v4->sin_family = AF_INET;
            count++;
        } else if (inet_pton(AF_INET6, line, &v6->sin6_addr) == 1) {
            v6->sin6_family = AF_INET6;
            count++;
        }
    }
    fclose(file);
    double best = 1e30;
    size_t found = 0;
    for (int pass = 0; pass < 3; pass++) {
        size_t hits = 0;
        double start = now();
        for (size_t i = 0; i < count; i++) {
            int error;
            MMDB_lookup_result_s result = MMDB_lookup_sockaddr(&mmdb, (struct sockaddr *)&addresses[i], &error);
            if (error != MMDB_SUCCESS || !result.found_entry) continue;
            MMDB_entry_data_s data;
            if (MMDB_get_value(&result.entry, &data, "country", "iso_code", NULL) == MMDB_SUCCESS && data.has_data &&
                data.type == MMDB_DATA_TYPE_UTF8_STRING && data.data_size == 2)
                hits++;
        }
        double seconds = now() - start;
        if (seconds < best) best = seconds;
        found = hits;
    }
    printf("geo.found %zu addresses\n", found);
    printf("geo.lookup_country_rate %.0f lookups/s\n", count / best);
    MMDB_close(&mmdb);
    free(addresses);
    return 0;
}
