#!/usr/bin/perl
# mkgeo.pl DIR [SEED]: the bench's enrichment files, as large as
# MaxMind's GeoLite2 databases (Debian libmaxmind-db-writer-perl):
#   DIR/country.mmdb  GeoIP2 Country layout (continent, country,
#                     registered_country; country.iso_code is what the
#                     enrich stage reads), ~280k IPv4 + ~110k IPv6 networks
#   DIR/asn.mmdb      GeoLite2 ASN layout (autonomous_system_number,
#                     autonomous_system_organization), ~410k + ~90k
#   DIR/networks.txt  enrich.net.file labels, a few thousand prefixes
# The networks tile the space bench/gen.c draws from (IPv4 1-223 but the
# private and special ranges; IPv6 2001::/16, 2600::/16, 2620::/16,
# 2a02::/16, 2804::/16), with gaps (misses), so that a lookup walks the
# tree as deep as in the real ones (/14 to /24 in IPv4, /24 to /48 in
# IPv6).  Deterministic: the same SEED (default 1) gives the same files,
# but for the build time the writer puts in a database's metadata.
use strict;
use warnings;

use MaxMind::DB::Writer::Tree;

my ($dir, $seed) = @ARGV;
die "usage: mkgeo.pl DIR [SEED]\n" unless defined $dir;
$seed //= 1;

# our own generator (64-bit LCG, Knuth's MMIX constants): the files do
# not depend on the perl's rand()
my $state = $seed;
sub below {
	my ($n) = @_;
	use integer;
	$state = $state * 6364136223846793005 + 1442695040888963407;
	no integer;
	return (($state >> 33) & 0x7fffffff) % $n;
}

# pick(weights): an index drawn by weight
sub pick {
	my ($w) = @_;
	my $total = 0;
	$total += $_ for @$w;
	my $r = below($total);
	for my $i (0 .. $#$w) {
		return $i if ($r -= $w->[$i]) < 0;
	}
}

my @langs = qw(de en es fr ja pt-BR ru zh-CN);
my %types = (
	continent                      => 'map',
	country                        => 'map',
	registered_country             => 'map',
	names                          => 'map',
	code                           => 'utf8_string',
	iso_code                       => 'utf8_string',
	geoname_id                     => 'uint32',
	is_in_european_union           => 'boolean',
	autonomous_system_number       => 'uint32',
	autonomous_system_organization => 'utf8_string',
	map { $_ => 'utf8_string' } @langs,
);

sub tree {
	my ($type) = @_;
	return MaxMind::DB::Writer::Tree->new(
		ip_version            => 6,
		record_size           => 24,
		database_type         => $type,
		languages             => \@langs,
		description           => { en => "kafkatee-pipe bench: $type" },
		alias_ipv6_to_ipv4    => 1,
		map_key_type_callback => sub { $types{ $_[0] } },
	);
}

# written(name, cb(fh)): DIR/name written by cb through a temporary file,
# so that a run cut short leaves no half file
sub written {
	my ($name, $cb) = @_;
	my $file = "$dir/$name";
	open my $fh, '>:raw', "$file.tmp" or die "$file.tmp: $!\n";
	$cb->($fh);
	close $fh or die "$file.tmp: $!\n";
	rename "$file.tmp", $file or die "$file: $!\n";
}

# IPv4 ranges bench-gen's clients come from (1-223 but 10/8 and 127/8),
# less the special ranges no GeoIP database lists
my @v4_ranges = ([ '1', '10' ], [ '11', '100.64' ], [ '100.128', '127' ],
	[ '128', '169.254' ], [ '169.255', '172.16' ], [ '172.32', '192.168' ],
	[ '192.169', '198.18' ], [ '198.20', '224' ]);
my @v6_heads = (0x2001, 0x2600, 0x2620, 0x2a02, 0x2804);

# tile(start, bits, step, q, cb): a node of 2^bits units at start is
# split into 2^step children with probability q->(bits) / 1000, else it
# is a network, cb(start, bits); a branching process, so that the tree
# has the real ones' mix of short and long prefixes
sub tile {
	my ($start, $bits, $step, $q, $cb) = @_;
	return $cb->($start, $bits) if $bits < $step || below(1000) >= $q->($bits);
	tile($start + ($_ << ($bits - $step)), $bits - $step, $step, $q, $cb)
	    for 0 .. (1 << $step) - 1;
}

# cover(from, to, q, cb): [from, to) in /24 units, as its largest aligned
# blocks, each tiled
sub cover {
	my ($a, $to, $q, $cb) = @_;
	while ($a < $to) {
		my $i = 0;
		$i++ while !($a % (2 << $i)) && $a + (2 << $i) <= $to;
		tile($a, $i, 1, $q, $cb);
		$a += 1 << $i;
	}
}

sub dotted {
	my ($n) = @_;
	return join '.', ($n >> 24) & 255, ($n >> 16) & 255, ($n >> 8) & 255,
	    $n & 255;
}

sub v4_start {
	my ($x) = @_;    # 100.64 -> 100.64.0.0
	my ($a, $b) = split /\./, $x;
	return (($a << 8) | ($b // 0)) << 16;
}

# each_network(q4, q6, gap, cb(cidr)): IPv4 in /24 units, split to /14
# at least, then with probability q4 a bit; IPv6 in /48 units within each
# /16, split to /24 at least, then with probability q6 a nibble; one
# network in `gap` is left out (a miss)
sub each_network {
	my ($q4, $q6, $gap, $cb) = @_;
	my $v4 = sub { $_[0] > 10 ? 1000 : $q4 };
	my $v6 = sub { $_[0] > 24 ? 1000 : $q6 };
	for my $r (@v4_ranges) {
		cover(v4_start($r->[0]) >> 8, v4_start($r->[1]) >> 8, $v4, sub {
			$cb->(dotted($_[0] << 8) . '/' . (24 - $_[1]))
			    if below($gap);
		});
	}
	for my $h (@v6_heads) {
		tile(0, 32, 4, $v6, sub {
			$cb->(sprintf '%x:%x:%x::/%d', $h, $_[0] >> 16,
			    $_[0] & 0xffff, 48 - $_[1]) if below($gap);
		});
	}
}

# GeoIP2 Country: one record per country, as MaxMind's (names in eight
# languages, continent and registered country)
my @cc = qw(US US US US US CN CN CN JP JP DE DE GB GB FR FR KR BR BR CA IT
    NL NL AU RU RU IN IN ES SE MX PL TW CH ZA AR TR ID VN IR UA SG HK BE AT
    DK FI NO IE CZ RO HU PT IL GR CL CO EG NZ TH MY PH PK NG KE SA AE KZ BG
    SK HR LT LV EE SI RS BY MA DZ TN PE VE EC UY BO PY CR PA DO GT HN SV NI
    CU JM TT BD LK NP MM KH LA MN GE AM AZ UZ IS LU MT CY MD AL MK BA ME QA
    KW BH OM JO LB IQ SY YE AF GH CI SN CM UG TZ ET RW ZM ZW MZ AO NA BW MG
    MU);
my %continent = (map({ $_ => 'EU' } qw(DE GB FR IT NL RU ES SE PL CH BE AT
    DK FI NO IE CZ RO HU PT GR UA BG SK HR LT LV EE SI RS BY IS LU MT CY MD
    AL MK BA ME)), map({ $_ => 'NA' } qw(US CA MX CR PA DO GT HN SV NI CU JM
    TT)), map({ $_ => 'SA' } qw(BR AR CL CO PE VE EC UY BO PY)),
    map({ $_ => 'OC' } qw(AU NZ)), map({ $_ => 'AF' } qw(ZA EG NG KE MA DZ TN
    GH CI SN CM UG TZ ET RW ZM ZW MZ AO NA BW MG MU)));
my %eu = map { $_ => 1 } qw(DE FR IT NL ES SE PL BE AT DK FI IE CZ RO HU PT
    GR BG SK HR LT LV EE SI LU MT CY);

sub place {
	my ($key, $code, $id) = @_;
	return { geoname_id => $id, $key => $code,
	    names => { map { $_ => "$code ($_)" } @langs } };
}

my %cdata;
for my $i (0 .. $#cc) {
	my $c = $cc[$i];
	my $cont = $continent{$c} // 'AS';
	my $place = place('iso_code', $c, 1000000 + $i);
	$place->{is_in_european_union} = 1 if $eu{$c};
	$cdata{$c} = { continent => place('code', $cont, 6255140 + ord $cont),
	    country => $place, registered_country => $place };
}

my $country = tree('GeoIP2-Country');
my $n = 0;
each_network(620, 118, 20, sub {
		$country->insert_network($_[0], $cdata{ $cc[ below(scalar @cc) ] });
		$n++;
	});
written('country.mmdb', sub { $country->write_tree($_[0]) });
print STDERR "mkgeo: country.mmdb: $n networks\n";

# GeoLite2 ASN: ~70000 systems, their organizations' names drawn from
# words (some with a non-ASCII letter or a quote, as real ones)
my @words = ('Telecom', 'Networks', 'Communications', 'Internet', 'Cloud',
	'Data', 'Broadband', 'Hosting', 'Online', 'Systems', 'Fiber', 'Net',
	'Digital', 'Global', 'Services', "T\x{e9}l\x{e9}com", 'Kabel', 'Mobile',
	'Regional', 'University', 'Datacenter', 'Transit', 'Wireless', 'IX');
my @suffix = ('LLC', 'Inc.', 'GmbH', 'AG', 'Ltd.', 'S.A.', 'B.V.', 'S.p.A.',
	'Sp. z o.o.', 'JSC', 'Co., Ltd.', 'Pty Ltd', '"ISP"', 'SAS', '');

sub org {
	my ($asn) = @_;
	my $w = $words[ $asn % @words ];
	my $x = $words[ int($asn / @words) % @words ];
	my $s = $suffix[ int($asn / 7) % @suffix ];
	return join ' ', grep { $_ ne '' } "AS$asn", $w, $x, $s;
}

my $asn = tree('GeoLite2-ASN');
$n = 0;
my %seen;
each_network(660, 115, 10, sub {
		my $as = 1 + below(70000);
		$as += 131072 if $as > 60000;    # 32-bit ones
		$asn->insert_network($_[0], $seen{$as} //= {
			autonomous_system_number       => $as,
			autonomous_system_organization => org($as),
		});
		$n++;
	});
written('asn.mmdb', sub { $asn->write_tree($_[0]) });
print STDERR "mkgeo: asn.mmdb: $n networks\n";

# networks.txt: the example's special ranges, bench-gen's servers
# (internal 10.64.0.0/12 and the sites' prefixes), a few thousand
# customer and peer prefixes, everything else external
my @fixed = ('10.0.0.0/8 internal', '10.64.0.0/12 internal-eqiad',
	'172.16.0.0/12 internal', '192.168.0.0/16 internal', '100.64.0.0/10 cgnat',
	'127.0.0.0/8 loopback', 'fc00::/7 internal', 'fe80::/10 link-local',
	'208.80.152.0/22 wikimedia', '185.15.56.0/22 wikimedia',
	'198.35.26.0/23 wikimedia', '103.102.166.0/24 wikimedia',
	'195.200.68.0/24 wikimedia', '2620:0:860::/46 wikimedia',
	'2a02:ec80::/32 wikimedia', '2001:df2:e500::/48 wikimedia',
	'0.0.0.0/0 external', '::/0 external');
written('networks.txt', sub {
	my ($fh) = @_;
	print $fh "# mkgeo.pl: enrich.net.file labels for the bench\n";
	print $fh "$_\n" for @fixed;
	my %listed = map { (split / /)[0] => 1 } @fixed;
	while (keys %listed < 4000 + @fixed) {
		my ($cidr, $len);
		if (below(4)) {
			$len = 16 + below(9);
			my $a = (1 + below(223)) << 24 | below(1 << 24);
			$cidr = dotted($a & ~((1 << (32 - $len)) - 1)) . "/$len";
		} else {
			$len = 24 + 4 * below(3);
			$cidr = sprintf '%x:%x::/%d', $v6_heads[ below(scalar @v6_heads) ],
			    below(65536) & (0xffff << (32 - $len)), $len;
		}
		next if $listed{$cidr}++;
		print $fh $cidr, ' ', below(5) ? 'customer-' . below(500)
		    : 'peer-' . below(100), "\n";
	}
});
