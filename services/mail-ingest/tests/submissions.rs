//! Help-center inquiries and external-channel messages: each stored and made a ticket message
//! once, however often submitted, with every bad field named.

use switchboard_proto::{
    inbound::v1::{
        ChannelSender, InboundAttachment, SubmitChannelMessageRequest,
        SubmitHelpCenterInquiryRequest,
    },
    ticket::v1::{TicketChannel, TicketIngestOutcome},
};
use tonic::{Code, Status};

use crate::common::{Mesh, bearer};

fn inquiry(request_id: &str) -> SubmitHelpCenterInquiryRequest {
    SubmitHelpCenterInquiryRequest {
        request_id: request_id.into(),
        name: "김민준".into(),
        email: "minjun@example.com".into(),
        phone_number: "010-1234-5678".into(),
        subject: "환불 문의".into(),
        body: "지난주 주문한 상품 환불 부탁드립니다.".into(),
        fields: [("order_no".to_string(), "A-1234".to_string())].into(),
        attachments: vec![InboundAttachment {
            file_name: "영수증.txt".into(),
            content_type: "text/plain".into(),
            content: "영수증 내용".as_bytes().to_vec(),
        }],
        ..Default::default()
    }
}

fn assert_field(result: Result<impl std::fmt::Debug, Status>, code: Code, field: &str) {
    let status = result.expect_err("refused");
    assert_eq!(status.code(), code, "{status:?}");
    assert!(status.message().contains(field), "{field}: {status:?}");
}

#[tokio::test]
async fn a_help_center_inquiry_makes_one_ticket_per_request_id() {
    let mesh = Mesh::start().await;
    mesh.account("help@center.example").await;
    let submit = |request: SubmitHelpCenterInquiryRequest| {
        let mesh = &mesh;
        async move {
            mesh.inbound()
                .await
                .submit_help_center_inquiry(bearer(request, &mesh.submit_key))
                .await
                .map(|r| r.into_inner())
        }
    };
    let request_id = uuid::Uuid::now_v7().to_string();
    let first = submit(inquiry(&request_id)).await.unwrap();
    assert!(!first.duplicate);
    let ticket = mesh.ticket(&first.ticket_id).await;
    assert_eq!(ticket.channel(), TicketChannel::HelpCenter);
    assert_eq!(ticket.subject, "환불 문의");
    assert_eq!(ticket.customer_fields["order_no"], "A-1234");
    let requester = ticket.requester.unwrap();
    assert_eq!(requester.phone_number, "+821012345678");
    let messages = mesh.messages(&first.ticket_id).await;
    assert_eq!(messages[0].attachments[0].file_name, "영수증.txt");

    let again = submit(inquiry(&request_id)).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(again.ticket_id, first.ticket_id);
    let mut other = inquiry(&request_id);
    other.body = "다른 내용".into();
    assert_field(submit(other).await, Code::AlreadyExists, "request_id");
    // Without a request_id every call is a new ticket.
    let a = submit(inquiry("")).await.unwrap();
    let b = submit(inquiry("")).await.unwrap();
    assert_ne!(a.ticket_id, b.ticket_id);

    let bad = [
        (
            "request_id",
            SubmitHelpCenterInquiryRequest {
                request_id: "x".into(),
                ..inquiry("")
            },
        ),
        (
            "name",
            SubmitHelpCenterInquiryRequest {
                name: " ".into(),
                ..inquiry("")
            },
        ),
        (
            "email",
            SubmitHelpCenterInquiryRequest {
                email: "kim at example".into(),
                ..inquiry("")
            },
        ),
        (
            "phone_number",
            SubmitHelpCenterInquiryRequest {
                phone_number: "12".into(),
                ..inquiry("")
            },
        ),
        (
            "subject",
            SubmitHelpCenterInquiryRequest {
                subject: String::new(),
                ..inquiry("")
            },
        ),
        (
            "body",
            SubmitHelpCenterInquiryRequest {
                body: String::new(),
                ..inquiry("")
            },
        ),
        (
            "inquiry_type_id",
            SubmitHelpCenterInquiryRequest {
                inquiry_type_id: "7".into(),
                ..inquiry("")
            },
        ),
        (
            "fields",
            SubmitHelpCenterInquiryRequest {
                fields: [("Order No".to_string(), "1".to_string())].into(),
                ..inquiry("")
            },
        ),
        (
            "attachments[0].file_name",
            SubmitHelpCenterInquiryRequest {
                attachments: vec![InboundAttachment {
                    file_name: "../../etc/passwd".into(),
                    content: b"x".to_vec(),
                    ..Default::default()
                }],
                ..inquiry("")
            },
        ),
    ];
    for (field, request) in bad {
        assert_field(submit(request).await, Code::InvalidArgument, field);
    }
    let eleven = SubmitHelpCenterInquiryRequest {
        attachments: (0..11)
            .map(|i| InboundAttachment {
                file_name: format!("{i}.txt"),
                content: b"x".to_vec(),
                ..Default::default()
            })
            .collect(),
        ..inquiry("")
    };
    assert_field(submit(eleven).await, Code::ResourceExhausted, "attachments");
    // The scope is needed.
    let (_, mail_only) = mesh
        .gateway
        .create_api_key("mta-only", &["mail:submit"])
        .await;
    let refused = mesh
        .inbound()
        .await
        .submit_help_center_inquiry(bearer(inquiry(""), &mail_only))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    mesh.stop().await;
}

fn chat(message_id: &str, text: &str) -> SubmitChannelMessageRequest {
    SubmitChannelMessageRequest {
        channel: "kakaotalk".into(),
        thread_key: "room-42".into(),
        channel_message_id: message_id.into(),
        sender: Some(ChannelSender {
            external_user_id: "kakao-user-7".into(),
            name: "이서연".into(),
            ..Default::default()
        }),
        text: text.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn channel_messages_thread_by_their_conversation_and_repeat_as_duplicates() {
    let mesh = Mesh::start().await;
    mesh.account("help@center.example").await;
    let submit = |request: SubmitChannelMessageRequest| {
        let mesh = &mesh;
        async move {
            mesh.inbound()
                .await
                .submit_channel_message(bearer(request, &mesh.submit_key))
                .await
                .map(|r| r.into_inner())
        }
    };
    let first = submit(chat("m1", "안녕하세요\n배송이 늦어요"))
        .await
        .unwrap();
    assert_eq!(first.outcome(), TicketIngestOutcome::Created);
    let ticket = mesh.ticket(&first.ticket_id).await;
    assert_eq!(ticket.channel(), TicketChannel::External);
    assert_eq!(ticket.subject, "안녕하세요");
    let second = submit(chat("m2", "언제 오나요?")).await.unwrap();
    assert_eq!(second.outcome(), TicketIngestOutcome::Threaded);
    assert_eq!(second.ticket_id, first.ticket_id);
    let repeat = submit(chat("m2", "언제 오나요?")).await.unwrap();
    assert_eq!(repeat.outcome(), TicketIngestOutcome::Duplicate);
    assert_eq!(repeat.ticket_message_id, second.ticket_message_id);
    assert_eq!(mesh.messages(&first.ticket_id).await.len(), 2);
    let other_room = submit(SubmitChannelMessageRequest {
        thread_key: "room-43".into(),
        ..chat("m3", "")
    })
    .await;
    assert_field(other_room, Code::InvalidArgument, "text");
    let photo = submit(SubmitChannelMessageRequest {
        thread_key: "room-43".into(),
        attachments: vec![InboundAttachment {
            file_name: "사진.png".into(),
            content: b"\x89PNG\r\n\x1a\n".to_vec(),
            ..Default::default()
        }],
        ..chat("m3", "")
    })
    .await
    .unwrap();
    assert_eq!(photo.outcome(), TicketIngestOutcome::Created);
    assert_eq!(
        mesh.ticket(&photo.ticket_id).await.subject,
        "[kakaotalk] 이서연"
    );
    for (field, request) in [
        (
            "channel",
            SubmitChannelMessageRequest {
                channel: "Kakao Talk".into(),
                ..chat("x", "t")
            },
        ),
        (
            "thread_key",
            SubmitChannelMessageRequest {
                thread_key: String::new(),
                ..chat("x", "t")
            },
        ),
        ("channel_message_id", chat("", "t")),
        (
            "sender.external_user_id",
            SubmitChannelMessageRequest {
                sender: None,
                ..chat("x", "t")
            },
        ),
    ] {
        assert_field(submit(request).await, Code::InvalidArgument, field);
    }
    mesh.stop().await;
}
