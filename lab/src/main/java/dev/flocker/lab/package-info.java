/**
 * The local multi-host lab: several Flocker hosts on one machine as network namespaces on a bridge,
 * each with its own dockerd, sshd, ZFS pool and mount root ({@code bin/flocker-lab}), and the JUnit 5
 * fixture ({@link dev.flocker.lab.LabExtension}) that gives integration and end-to-end tests a real
 * cluster to run against and removes it afterwards.
 */
package dev.flocker.lab;
