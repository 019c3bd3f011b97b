# kafkatee-pipe
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
BUILD   ?= build
CC      ?= cc
PKGS     = rdkafka json-c uuid
CWARN   ?= -Wall -Wextra -Werror
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(CWARN) $(CFLAGS) \
	$(shell pkg-config --cflags $(PKGS))
LIBS     = $(shell pkg-config --libs $(PKGS)) -lev

SRCS = kafkatee-pipe.c transform.c reader.c config.c stamp.c deadletter.c output.c
OBJS = $(SRCS:%.c=$(BUILD)/%.o)
HDRS = $(wildcard *.h)

all: $(BUILD)/kafkatee-pipe

$(BUILD)/%.o: %.c $(HDRS) | $(BUILD)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/kafkatee-pipe: $(OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) $(OBJS) $(LIBS) -o $@

$(BUILD):
	mkdir -p $(BUILD)

clean:
	rm -rf $(BUILD)

.PHONY: all clean
