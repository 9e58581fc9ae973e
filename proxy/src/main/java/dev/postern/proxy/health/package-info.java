/**
 * Active health checks, one class per mode: {@link dev.postern.proxy.health.ConnectCheck} (a TCP connection),
 * {@link dev.postern.proxy.health.GreetingCheck} (the protocol's greeting) and {@link
 * dev.postern.proxy.health.LoginCheck} (a probe user logs in through the protocol's own backend dialogue, runs a
 * cheap command and logs out). {@code routing.HealthChecker} schedules them and applies rise and fall.
 */
package dev.postern.proxy.health;
