package dev.postern.config;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Run in a child JVM by {@link LocalRouteStoreTest}: updates the store as fast as it can, printing each revision,
 * until it is killed.
 */
public final class RouteStoreCrashWriter {
    private RouteStoreCrashWriter() {}

    public static void main(String[] args) throws Exception {
        LocalRouteStore store = LocalRouteStore.open(Path.of(args[0]), LocalRouteStoreTest.seed());
        for (int i = 0; ; i++) {
            int n = i;
            RoutingTable t = store.update(-1, table -> {
                Map<String, String> users = new HashMap<>(table.routes().users());
                // a few hundred routes make each write large enough to be caught in the middle
                for (int u = 0; u < 300; u++) {
                    users.put("user" + u + "@example.com", "main");
                }
                users.put("writer" + n + "@example.com", "main");
                return new RoutingTable(
                        0,
                        table.pools(),
                        new Routes(
                                users, table.routes().domains(), table.routes().defaultPool()));
            });
            System.out.println(t.revision());
            System.out.flush();
        }
    }
}
