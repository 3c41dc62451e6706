package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"ordo/service/etcd"
)

func init() { commands = append(commands, newServiceCmd) }

// newServiceCmd is `ordo service etcd-member ...`, hidden from help: the
// process the embedded-etcd launcher (package service/etcd) runs for each
// member, so that a SIGKILL crashes one member and nothing else.
func newServiceCmd() *cobra.Command {
	svc := &cobra.Command{
		Use:    etcd.MemberCommand[0],
		Short:  "processes that ordo runs for real services (internal)",
		Hidden: true,
		Args:   noArgs,
		RunE:   func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	svc.AddCommand(&cobra.Command{
		Use:   etcd.MemberCommand[1] + " --name NAME --dir DIR --peer URL --client URL --cluster NAME=URL,...",
		Short: "run one embedded etcd member until SIGTERM (started by ordo bench kv)",
		// The member parses its own flags (etcd.ParseMember), the same way
		// in this binary and in a test binary playing the member.
		DisableFlagParsing: true,
		Hidden:             true,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
			defer stop()
			return etcd.MemberMain(ctx, args)
		},
	})
	svc.AddCommand(newEtcdCampaignCmd()) // etcd.go
	return svc
}
