#!/usr/bin/perl
# mkmmdb.pl DIR [2]: the tests' MaxMind DB files, built at test time
# (Debian libmaxmind-db-writer-perl): DIR/country.mmdb in the GeoIP2
# Country layout (country.iso_code) and DIR/asn.mmdb in the GeoLite2 ASN
# layout (autonomous_system_number, autonomous_system_organization).
# Generation 2 moves 192.0.2.0/24 from FR to DE and renames its AS: the
# SIGHUP reopen tests swap one for the other.  The networks are the
# documentation ranges (RFC 5737, RFC 3849): 203.0.113.0/24 and
# 2001:db8:ffff::/48 are in none of them (misses).
use strict;
use warnings;
use utf8;

use MaxMind::DB::Writer::Tree;

my ($dir, $gen) = @ARGV;
die "usage: mkmmdb.pl DIR [2]\n" unless defined $dir;
$gen //= 1;

my %types = (
	country                        => 'map',
	iso_code                       => 'utf8_string',
	autonomous_system_number       => 'uint32',
	autonomous_system_organization => 'utf8_string',
);

sub tree {
	my ($type) = @_;
	return MaxMind::DB::Writer::Tree->new(
		ip_version               => 6,
		record_size              => 24,
		database_type            => $type,
		languages                => ['en'],
		description              => { en => "kafkatee-pipe tests: $type" },
		remove_reserved_networks => 0,
		map_key_type_callback    => sub { $types{ $_[0] } },
	);
}

sub write_tree {
	my ($tree, $file) = @_;
	open my $fh, '>:raw', "$file.tmp" or die "$file.tmp: $!\n";
	$tree->write_tree($fh);
	close $fh or die "$file.tmp: $!\n";
	rename "$file.tmp", $file or die "$file: $!\n";
}

my $country = tree('GeoIP2-Country');
$country->insert_network('192.0.2.0/24',
	{ country => { iso_code => $gen == 2 ? 'DE' : 'FR' } });
$country->insert_network('198.51.100.0/24', { country => { iso_code => 'JP' } });
$country->insert_network('2001:db8::/33', { country => { iso_code => 'NL' } });
write_tree($country, "$dir/country.mmdb");

my $asn = tree('GeoLite2-ASN');
$asn->insert_network('192.0.2.0/24', {
	autonomous_system_number       => 64496,
	autonomous_system_organization =>
	    $gen == 2 ? 'Renamed Net' : "Ex\x{e4}mple \"Quoted\" Networks",
});
$asn->insert_network('198.51.100.0/24', {
	autonomous_system_number       => 64500,
	autonomous_system_organization => 'Plain Org',
});
$asn->insert_network('2001:db8::/33', {
	autonomous_system_number       => 64511,
	autonomous_system_organization => 'Doc Six',
});
write_tree($asn, "$dir/asn.mmdb");
