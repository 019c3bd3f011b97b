// Tiny topic admin for tests/kafka/kafka.sh, on the kafka-clients Admin API.
//
// kcat cannot create topics, and kafka-tools (TopicCommand) is not published
// for every Kafka release (4.4.0 has none on Maven Central) and drags in
// Kafka Connect, Jetty and Jersey; so kafka.sh compiles this file with javac
// at fetch time into ${BUILD}/kafka/lib/classes.
//
// usage: KafkaAdmin BOOTSTRAP create TOPIC PARTITIONS [REPLICATION [KEY=VALUE...]]
//        KafkaAdmin BOOTSTRAP partitions TOPIC        (prints the partition count)
//        KafkaAdmin BOOTSTRAP delete TOPIC
//        KafkaAdmin BOOTSTRAP list                    (one topic a line)
// exit: 0 ok, 1 error, 2 usage. "create" of a topic that already exists with
// the same partition count succeeds; with another count it fails.
// "create" returns only once every partition has a leader in the metadata the
// broker serves, so a producer started right after sees all partitions.

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

public final class KafkaAdmin {
    private static final long TIMEOUT_MS = 60_000;

    public static void main(String[] args) {
        if (args.length < 2) usage();
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "15000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, "kafka.sh-admin");
        int rc;
        try (Admin admin = Admin.create(p)) {
            rc = run(admin, args);
        } catch (Exception e) {
            Throwable c = (e instanceof ExecutionException && e.getCause() != null) ? e.getCause() : e;
            System.err.println("KafkaAdmin: " + c.getClass().getSimpleName() + ": " + c.getMessage());
            rc = 1;
        }
        System.exit(rc);
    }

    private static void usage() {
        System.err.println("usage: KafkaAdmin BOOTSTRAP create TOPIC PARTITIONS [REPLICATION [KEY=VALUE...]]\n"
                + "       KafkaAdmin BOOTSTRAP partitions|delete TOPIC\n"
                + "       KafkaAdmin BOOTSTRAP list");
        System.exit(2);
    }

    private static int run(Admin admin, String[] a) throws Exception {
        switch (a[1]) {
            case "create": {
                if (a.length < 4) usage();
                String topic = a[2];
                int parts = Integer.parseInt(a[3]);
                short rf = a.length > 4 ? Short.parseShort(a[4]) : 1;
                Map<String, String> cfg = new HashMap<>();
                for (int i = 5; i < a.length; i++) {
                    int eq = a[i].indexOf('=');
                    if (eq <= 0) usage();
                    cfg.put(a[i].substring(0, eq), a[i].substring(eq + 1));
                }
                NewTopic nt = new NewTopic(topic, parts, rf).configs(cfg);
                try {
                    admin.createTopics(Collections.singleton(nt)).all().get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) throw e;
                    int have = describe(admin, topic).partitions().size();
                    if (have != parts) {
                        System.err.println("KafkaAdmin: topic " + topic + " exists with " + have
                                + " partitions, not " + parts);
                        return 1;
                    }
                }
                return waitLeaders(admin, topic, parts);
            }
            case "partitions":
                if (a.length != 3) usage();
                System.out.println(describe(admin, a[2]).partitions().size());
                return 0;
            case "delete":
                if (a.length != 3) usage();
                try {
                    admin.deleteTopics(Collections.singleton(a[2])).all().get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) throw e;
                }
                return 0;
            case "list": {
                List<String> names = new ArrayList<>(admin.listTopics().names().get(TIMEOUT_MS, TimeUnit.MILLISECONDS));
                Collections.sort(names);
                for (String n : names) System.out.println(n);
                return 0;
            }
            default:
                usage();
                return 2;
        }
    }

    private static TopicDescription describe(Admin admin, String topic) throws Exception {
        return admin.describeTopics(Collections.singleton(topic)).allTopicNames()
                .get(TIMEOUT_MS, TimeUnit.MILLISECONDS).get(topic);
    }

    private static int waitLeaders(Admin admin, String topic, int parts) throws Exception {
        long deadline = System.currentTimeMillis() + TIMEOUT_MS;
        String last = "";
        while (System.currentTimeMillis() < deadline) {
            try {
                TopicDescription d = describe(admin, topic);
                int led = 0;
                for (TopicPartitionInfo pi : d.partitions())
                    if (pi.leader() != null && !pi.leader().isEmpty()) led++;
                if (d.partitions().size() == parts && led == parts) return 0;
                last = d.partitions().size() + " partitions, " + led + " with a leader";
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) throw e;
                last = "not yet in metadata";
            }
            Thread.sleep(100);
        }
        System.err.println("KafkaAdmin: topic " + topic + " not ready after " + TIMEOUT_MS + " ms: " + last);
        return 1;
    }
}
