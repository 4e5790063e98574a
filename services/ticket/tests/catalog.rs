//! Inquiry types (접수유형) and processing types (처리유형) through the gateway: one
//! implementation behind two services, so the rules are shown once on each list.

use prost_types::FieldMask;
use switchboard_gateway::testing::bearer;
use switchboard_proto::ticket::v1::*;
use tonic::Code;

use crate::common::{
    Mesh,
    catalog_clients::{invalid, refused},
};

fn mask(paths: &[&str]) -> Option<FieldMask> {
    Some(FieldMask {
        paths: paths.iter().map(|p| p.to_string()).collect(),
    })
}

fn inquiry(name: &str) -> Option<InquiryType> {
    Some(InquiryType {
        name: name.into(),
        ..Default::default()
    })
}

async fn create_inquiry(
    mesh: &Mesh,
    request_id: &str,
    name: &str,
) -> Result<InquiryType, tonic::Status> {
    mesh.inquiry_types()
        .await
        .create_inquiry_type(bearer(
            CreateInquiryTypeRequest {
                request_id: request_id.into(),
                inquiry_type: inquiry(name),
            },
            &mesh.admin(),
        ))
        .await
        .map(|r| r.into_inner().inquiry_type.unwrap())
}

async fn list_inquiries(
    mesh: &Mesh,
    token: &str,
    page_size: i32,
    page_token: &str,
) -> Result<ListInquiryTypesResponse, tonic::Status> {
    mesh.inquiry_types()
        .await
        .list_inquiry_types(bearer(
            ListInquiryTypesRequest {
                active_only: false,
                page_size,
                page_token: page_token.into(),
            },
            token,
        ))
        .await
        .map(|r| r.into_inner())
}

#[tokio::test]
async fn inquiry_types_crud_in_korean_paged_in_display_order() {
    let mesh = Mesh::start().await;
    let mut client = mesh.inquiry_types().await;
    let delivery = create_inquiry(&mesh, "", "  배송 문의 ").await.unwrap();
    assert_eq!(delivery.name, "배송 문의", "trimmed, exactly as written");
    assert!(delivery.active);
    let refund = create_inquiry(&mesh, "", "환불 요청").await.unwrap();
    assert!(refund.position > delivery.position, "0 means last");
    let first = client
        .create_inquiry_type(bearer(
            CreateInquiryTypeRequest {
                request_id: String::new(),
                inquiry_type: Some(InquiryType {
                    name: "긴급".into(),
                    description: "장애·보안 문의".into(),
                    position: 0,
                    ..Default::default()
                }),
            },
            &mesh.admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .inquiry_type
        .unwrap();
    // Move "긴급" to the front; only the named fields change.
    let moved = client
        .update_inquiry_type(bearer(
            UpdateInquiryTypeRequest {
                inquiry_type: Some(InquiryType {
                    id: first.id.clone(),
                    name: "무시됨".into(),
                    position: 1,
                    ..Default::default()
                }),
                update_mask: mask(&["position"]),
            },
            &mesh.admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .inquiry_type
        .unwrap();
    assert_eq!((moved.name.as_str(), moved.position), ("긴급", 1));
    assert_eq!(moved.description, "장애·보안 문의");

    // Pages of two in display order (position, then name), total over all pages. Agents read.
    let agent = mesh.agent("kim", &[]).await;
    let page = list_inquiries(&mesh, &mesh.token(&agent), 2, "")
        .await
        .unwrap();
    assert_eq!(page.total_size, 3);
    let names: Vec<_> = page.inquiry_types.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["긴급", "배송 문의"]);
    let rest = list_inquiries(&mesh, &mesh.token(&agent), 2, &page.next_page_token)
        .await
        .unwrap();
    assert_eq!(rest.inquiry_types.len(), 1);
    assert_eq!(rest.inquiry_types[0].id, refund.id);
    assert_eq!(rest.next_page_token, "");
    assert_eq!(rest.total_size, 3);

    // Deactivated entries stay listed unless active_only.
    client
        .update_inquiry_type(bearer(
            UpdateInquiryTypeRequest {
                inquiry_type: Some(InquiryType {
                    id: refund.id.clone(),
                    active: false,
                    ..Default::default()
                }),
                update_mask: mask(&["active"]),
            },
            &mesh.admin(),
        ))
        .await
        .unwrap();
    let active = client
        .list_inquiry_types(bearer(
            ListInquiryTypesRequest {
                active_only: true,
                ..Default::default()
            },
            &mesh.admin(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(active.total_size, 2);
    assert!(active.inquiry_types.iter().all(|t| t.id != refund.id));

    // Delete, then it is gone.
    client
        .delete_inquiry_type(bearer(
            DeleteInquiryTypeRequest {
                inquiry_type_id: refund.id.clone(),
            },
            &mesh.admin(),
        ))
        .await
        .unwrap();
    let gone = client
        .get_inquiry_type(bearer(
            GetInquiryTypeRequest {
                inquiry_type_id: refund.id.clone(),
            },
            &mesh.admin(),
        ))
        .await;
    refused(gone, Code::NotFound);
    mesh.stop().await;
}

#[tokio::test]
async fn creates_are_idempotent_and_names_unique() {
    let mesh = Mesh::start().await;
    let request_id = uuid::Uuid::new_v4().to_string();
    let created = create_inquiry(&mesh, &request_id, "상품 문의")
        .await
        .unwrap();
    let again = create_inquiry(&mesh, &request_id, "상품 문의")
        .await
        .unwrap();
    assert_eq!(again, created, "a retry gets the first result");
    let reused = create_inquiry(&mesh, &request_id, "다른 문의").await;
    refused(reused, Code::AlreadyExists);
    let taken = refused(
        create_inquiry(&mesh, "", " 상품 문의").await,
        Code::AlreadyExists,
    );
    assert!(taken.message().contains("inquiry_type.name"), "{taken:?}");
    let other = create_inquiry(&mesh, "", "기타").await.unwrap();
    let renamed = mesh
        .inquiry_types()
        .await
        .update_inquiry_type(bearer(
            UpdateInquiryTypeRequest {
                inquiry_type: Some(InquiryType {
                    id: other.id,
                    name: "상품 문의".into(),
                    ..Default::default()
                }),
                update_mask: mask(&["name"]),
            },
            &mesh.admin(),
        ))
        .await;
    refused(renamed, Code::AlreadyExists);
    let listed = list_inquiries(&mesh, &mesh.admin(), 0, "").await.unwrap();
    assert_eq!(listed.total_size, 2, "nothing created twice");
    mesh.stop().await;
}

#[tokio::test]
async fn bad_input_is_named_by_field_on_both_lists() {
    let mesh = Mesh::start().await;
    let admin = mesh.admin();
    let mut inquiries = mesh.inquiry_types().await;
    let mut processing = mesh.processing_types().await;
    let long = "가".repeat(101);
    for (name, request_id, fields) in [
        ("  ", "", vec!["processing_type.name"]),
        (long.as_str(), "", vec!["processing_type.name"]),
        ("해결", "not-a-uuid", vec!["request_id"]),
    ] {
        let result = processing
            .create_processing_type(bearer(
                CreateProcessingTypeRequest {
                    request_id: request_id.into(),
                    processing_type: Some(ProcessingType {
                        name: name.into(),
                        ..Default::default()
                    }),
                },
                &admin,
            ))
            .await;
        invalid(result, &fields);
    }
    let solved = processing
        .create_processing_type(bearer(
            CreateProcessingTypeRequest {
                request_id: String::new(),
                processing_type: Some(ProcessingType {
                    name: "해결 완료".into(),
                    ..Default::default()
                }),
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner()
        .processing_type
        .unwrap();
    for (paths, fields) in [
        (vec![], vec!["update_mask"]),
        (vec!["create_time"], vec!["update_mask"]),
        (
            vec!["name", "position"],
            vec!["processing_type.name", "processing_type.position"],
        ),
    ] {
        let result = processing
            .update_processing_type(bearer(
                UpdateProcessingTypeRequest {
                    processing_type: Some(ProcessingType {
                        id: solved.id.clone(),
                        name: String::new(),
                        position: -3,
                        ..Default::default()
                    }),
                    update_mask: mask(&paths),
                },
                &admin,
            ))
            .await;
        invalid(result, &fields);
    }
    let bad_id = processing
        .get_processing_type(bearer(
            GetProcessingTypeRequest {
                processing_type_id: "x".into(),
            },
            &admin,
        ))
        .await;
    invalid(bad_id, &["processing_type_id"]);
    let missing = processing
        .delete_processing_type(bearer(
            DeleteProcessingTypeRequest {
                processing_type_id: uuid::Uuid::new_v4().to_string(),
            },
            &admin,
        ))
        .await;
    refused(missing, Code::NotFound);
    invalid(list_inquiries(&mesh, &admin, -1, "").await, &["page_size"]);
    invalid(
        list_inquiries(&mesh, &admin, 0, "garbage").await,
        &["page_token"],
    );
    // A token of one filter is refused with another.
    create_inquiry(&mesh, "", "하나").await.unwrap();
    create_inquiry(&mesh, "", "둘").await.unwrap();
    let page = list_inquiries(&mesh, &admin, 1, "").await.unwrap();
    let other_filter = inquiries
        .list_inquiry_types(bearer(
            ListInquiryTypesRequest {
                active_only: true,
                page_size: 1,
                page_token: page.next_page_token,
            },
            &admin,
        ))
        .await;
    invalid(other_filter, &["page_token"]);
    mesh.stop().await;
}

#[tokio::test]
async fn agents_read_the_lists_and_only_admins_write_them() {
    let mesh = Mesh::start().await;
    let agent = mesh.token(&mesh.agent("lee", &[]).await);
    let created = create_inquiry(&mesh, "", "제휴 문의").await.unwrap();
    let mut inquiries = mesh.inquiry_types().await;
    let write = inquiries
        .create_inquiry_type(bearer(
            CreateInquiryTypeRequest {
                request_id: String::new(),
                inquiry_type: inquiry("상담원이 만든 유형"),
            },
            &agent,
        ))
        .await;
    refused(write, Code::PermissionDenied);
    let update = inquiries
        .update_inquiry_type(bearer(
            UpdateInquiryTypeRequest {
                inquiry_type: Some(InquiryType {
                    id: created.id.clone(),
                    active: false,
                    ..Default::default()
                }),
                update_mask: mask(&["active"]),
            },
            &agent,
        ))
        .await;
    refused(update, Code::PermissionDenied);
    let delete = mesh
        .processing_types()
        .await
        .delete_processing_type(bearer(
            DeleteProcessingTypeRequest {
                processing_type_id: uuid::Uuid::new_v4().to_string(),
            },
            &agent,
        ))
        .await;
    refused(delete, Code::PermissionDenied);
    let got = inquiries
        .get_inquiry_type(bearer(
            GetInquiryTypeRequest {
                inquiry_type_id: created.id.clone(),
            },
            &agent,
        ))
        .await
        .unwrap()
        .into_inner()
        .inquiry_type
        .unwrap();
    assert_eq!(got, created);
    // The help-center form's key reads inquiry types, and only those.
    let (_, form) = mesh
        .gateway
        .create_api_key("help-center", &["inquiries:submit"])
        .await;
    assert_eq!(
        list_inquiries(&mesh, &form, 0, "")
            .await
            .unwrap()
            .total_size,
        1
    );
    let processing = mesh
        .processing_types()
        .await
        .list_processing_types(bearer(ListProcessingTypesRequest::default(), &form))
        .await;
    refused(processing, Code::PermissionDenied);
    mesh.stop().await;
}

#[tokio::test]
async fn a_type_a_ticket_had_is_deactivated_not_deleted() {
    let mesh = Mesh::start().await;
    let used = create_inquiry(&mesh, "", "배송 문의").await.unwrap();
    let group = mesh.group("상담1팀").await;
    let ticket = mesh
        .tickets()
        .await
        .create_ticket(bearer(
            CreateTicketRequest {
                ticket: Some(Ticket {
                    subject: "배송이 늦어요".into(),
                    group_id: group.id.clone(),
                    inquiry_type_id: used.id.clone(),
                    requester: Some(TicketRequester {
                        name: "김민수".into(),
                        email: "minsu.kim@example.co.kr".into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                body: "전화 문의 내용".into(),
                ..Default::default()
            },
            &mesh.admin(),
        ))
        .await
        .expect("a ticket with the inquiry type is created")
        .into_inner()
        .ticket
        .unwrap();
    assert_eq!(ticket.inquiry_type_id, used.id);
    let mut client = mesh.inquiry_types().await;
    let delete = client
        .delete_inquiry_type(bearer(
            DeleteInquiryTypeRequest {
                inquiry_type_id: used.id.clone(),
            },
            &mesh.admin(),
        ))
        .await;
    let status = refused(delete, Code::FailedPrecondition);
    assert!(status.message().starts_with("IN_USE"), "{status:?}");
    let deactivated = client
        .update_inquiry_type(bearer(
            UpdateInquiryTypeRequest {
                inquiry_type: Some(InquiryType {
                    id: used.id.clone(),
                    active: false,
                    ..Default::default()
                }),
                update_mask: mask(&["active"]),
            },
            &mesh.admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .inquiry_type
        .unwrap();
    assert!(!deactivated.active);
    let kept = mesh.get(&mesh.admin(), &ticket.id).await.unwrap();
    assert_eq!(kept.inquiry_type_id, used.id, "the ticket keeps its type");
    mesh.stop().await;
}
